// Fused ops with a kernel of their own for forward and backward: softmax, log_softmax,
// layer_norm, embedding, causal attention, cross-entropy.
#include <cmath>

#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

Tensor softmax_op(const Tensor& x, int64_t axis, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  ProfileScope prof(name);
  check_defined(name, x, "input");
  check_float(name, x);
  const int64_t ax = wrap_axis(axis, x.dim(), name);
  if (x.dim() > 0 && ax != x.dim() - 1)  // the kernel works on the last axis
    return transpose(softmax_op(transpose(x, ax, -1), -1, log), ax, -1);
  const Tensor xc = contiguous_raw(x);
  Tensor y = x.empty_like();
  kernels(x.device()).softmax(xc, y, log);
  record(log ? OpKind::log_softmax : OpKind::softmax, {x}, y, [log, y = save(y)](const Tensor& gy) {
    Tensor gx = y.empty_like();
    kernels(y.device()).softmax_backward(y, contiguous_raw(gy), gx, log);
    return std::vector<Tensor>{gx};
  });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_op(x, axis, true); }

Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  ProfileScope prof("layer_norm");
  check_defined("layer_norm", x, "input");
  check_float("layer_norm", x);
  MB_CHECK(x.dim() >= 1, "layer_norm: input must have at least one dim, got ", describe(x));
  MB_CHECK(eps > 0, "layer_norm: eps must be positive, got ", eps);
  const int64_t C = x.size(-1);
  for (const Tensor* p : {&w, &b}) {
    if (!p->defined()) continue;
    check_same_device("layer_norm", x, *p);
    check_same_dtype("layer_norm", x, *p);
    MB_CHECK(p->shape() == Shape{C}, "layer_norm: ", p == &w ? "weight" : "bias", " has shape ",
             to_string(p->shape()), ", expected [", C, "] to match input ", describe(x));
  }
  const Tensor xc = contiguous_raw(x), wc = w.defined() ? contiguous_raw(w) : w,
               bc = b.defined() ? contiguous_raw(b) : b;
  Shape rows(x.shape().begin(), x.shape().end() - 1);
  Tensor y = x.empty_like(), mu = Tensor::empty(rows, stat_dtype(x.dtype()), x.device()),
         rstd = Tensor::empty(rows, stat_dtype(x.dtype()), x.device());
  kernels(x.device()).layer_norm(xc, wc, bc, eps, y, mu, rstd);
  if (needs_grad({&x, &w, &b})) {
    const bool gw_on = w.defined() && w.requires_grad(), gb_on = b.defined() && b.requires_grad();
    record(OpKind::layer_norm, {x, w, b}, y,
           [=, x = save(xc), w = save(wc), mu = save(mu), rstd = save(rstd)](const Tensor& gy) {
             Tensor gx = x.empty_like();
             Tensor gw = gw_on ? w.empty_like() : Tensor(), gb = gb_on ? Tensor::empty({C}, x.dtype(), x.device()) : Tensor();
             kernels(x.device()).layer_norm_backward(x, w, mu, rstd, contiguous_raw(gy), gx, gw, gb);
             return std::vector<Tensor>{gx, gw, gb};
           });
  }
  return y;
}

Tensor embedding(const Tensor& weight, const Tensor& idx) {
  ProfileScope prof("embedding");
  check_lookup("embedding", weight, "weight", idx, "indices");
  MB_CHECK(weight.dim() == 2, "embedding: weight must be 2-D (rows, dim), got ", describe(weight));
  const int64_t V = weight.size(0), D = weight.size(1);
  check_index_range("embedding", idx, V, "index");
  const Tensor wc = contiguous_raw(weight), ic = contiguous_raw(idx);
  Shape shape = idx.shape();
  shape.push_back(D);
  Tensor y = Tensor::empty(shape, weight.dtype(), weight.device());
  kernels(weight.device()).embedding(wc, ic, y);
  record(OpKind::embedding, {weight}, y, [ic = save(ic), V, D](const Tensor& gy) {
    Tensor gw = Tensor::zeros({V, D}, gy.dtype(), gy.device());
    kernels(gy.device()).embedding_backward(ic, contiguous_raw(gy), gw);
    return std::vector<Tensor>{gw};
  });
  return y;
}

Tensor scatter_add_rows(const Tensor& src, const Tensor& idx, int64_t rows) {
  ProfileScope prof("scatter_add_rows");
  check_lookup("scatter_add_rows", src, "src", idx, "indices");
  MB_CHECK(src.dim() == 2 && idx.dim() == 1 && idx.size(0) == src.size(0), "scatter_add_rows: src must be (N, D) and ",
           "indices (N), got ", describe(src), " and ", describe(idx));
  MB_CHECK(rows >= 0, "scatter_add_rows: rows must be >= 0, got ", rows);
  check_index_range("scatter_add_rows", idx, rows, "index");
  const int64_t N = src.size(0), D = src.size(1);
  const Tensor ic = contiguous_raw(idx);
  Tensor y = Tensor::zeros({rows, D}, src.dtype(), src.device());
  kernels(src.device()).embedding_backward(ic, contiguous_raw(src), y);
  record(OpKind::scatter_add_rows, {src}, y, [ic = save(ic), N, D](const Tensor& gy) {
    Tensor gs = Tensor::empty({N, D}, gy.dtype(), gy.device());
    kernels(gy.device()).embedding(contiguous_raw(gy), ic, gs);
    return std::vector<Tensor>{gs};
  });
  return y;
}

namespace {

// A (B, H, T, D) view of x with a unit stride in D: x itself, or a contiguous copy.
Tensor unit_last_stride(const Tensor& x) {
  return x.strides()[3] == 1 || x.size(3) == 1 ? x : contiguous_raw(x);
}

// The heads of a packed (B, T, n·H·D) buffer: part i of n (q, k, v for n = 3) as a (B, H, T, D)
// view with no copy.
Tensor head_view(const Tensor& packed, int64_t H, int64_t n, int64_t i) {
  const int64_t B = packed.size(0), T = packed.size(1), D = packed.size(2) / (n * H);
  return make_view(packed, {B, H, T, D}, {T * n * H * D, D, n * H * D, 1}, packed.offset() + i * H * D);
}

// The shared forward/backward: q, k, v, out and the gradients are (B, H, T, D) views.
struct AttentionRun {
  double scale;
  Tensor q, k, v, out, lse;
  void forward() const { kernels(q.device()).attention(q, k, v, scale, out, lse); }
  void backward(const Tensor& gout, const Tensor& gq, const Tensor& gk, const Tensor& gv) const {
    kernels(q.device()).attention_backward(q, k, v, out, lse, gout, scale, gq, gk, gv);
  }
};

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  ProfileScope prof("attention");
  check_defined("attention", q, "q");
  check_defined("attention", k, "k");
  check_defined("attention", v, "v");
  check_float("attention", q);
  for (const Tensor* t : {&k, &v}) {
    check_same_device("attention", q, *t);
    check_same_dtype("attention", q, *t);
  }
  MB_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
           "attention: q, k, v must be (B, H, T, D); got ", describe(q), ", ", describe(k), ", ",
           describe(v));
  MB_CHECK(k.shape() == v.shape(), "attention: k ", describe(k), " and v ", describe(v),
           " must have the same shape");
  MB_CHECK(q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3),
           "attention: q ", describe(q), " and k ", describe(k), " differ in B, H or D");
  MB_CHECK(q.size(2) <= k.size(2), "attention: q has more positions (", q.size(2),
           ") than k and v (", k.size(2), ")");
  const AttentionRun run{scale > 0 ? scale : 1.0 / std::sqrt(double(q.size(3))), unit_last_stride(q),
                         unit_last_stride(k), unit_last_stride(v), Tensor::empty(q.shape(), q.dtype(), q.device()),
                         Tensor::empty({q.size(0), q.size(1), q.size(2)}, stat_dtype(q.dtype()), q.device())};
  run.forward();
  Tensor out = run.out;
  if (needs_grad({&q, &k, &v})) {
    record(OpKind::attention, {q, k, v}, out,
           [r = AttentionRun{run.scale, save(run.q), save(run.k), save(run.v), save(run.out), run.lse}](const Tensor& gy) {
             Tensor gq = Tensor::empty(r.q.shape(), r.q.dtype(), r.q.device()),
                    gk = Tensor::empty(r.k.shape(), r.k.dtype(), r.k.device()),
                    gv = Tensor::empty(r.v.shape(), r.v.dtype(), r.v.device());
             r.backward(unit_last_stride(gy), gq, gk, gv);
             return std::vector<Tensor>{gq, gk, gv};
           });
  }
  return out;
}

Tensor attention_qkv(const Tensor& qkv, int64_t heads, double scale) {
  ProfileScope prof("attention_qkv");
  check_defined("attention_qkv", qkv, "qkv");
  check_float("attention_qkv", qkv);
  MB_CHECK(qkv.dim() == 3 && heads >= 1 && qkv.size(2) % (3 * heads) == 0, "attention_qkv: qkv must be (B, T, 3·H·D) ",
           "for ", heads, " heads, got ", describe(qkv));
  const int64_t B = qkv.size(0), T = qkv.size(1), HD = qkv.size(2) / 3;
  const Tensor packed = contiguous_raw(qkv);
  Tensor out = Tensor::empty({B, T, HD}, qkv.dtype(), qkv.device());  // (B, T, H, D) memory
  const AttentionRun run{scale > 0 ? scale : 1.0 / std::sqrt(double(HD / heads)), head_view(packed, heads, 3, 0),
                         head_view(packed, heads, 3, 1), head_view(packed, heads, 3, 2), head_view(out, heads, 1, 0),
                         Tensor::empty({B, heads, T}, stat_dtype(qkv.dtype()), qkv.device())};
  run.forward();
  if (needs_grad({&qkv})) {
    record(OpKind::attention_qkv, {qkv}, out,
           [r = AttentionRun{run.scale, save(run.q), save(run.k), save(run.v), save(run.out), run.lse},
            heads](const Tensor& gy) {
             Tensor g = Tensor::empty({gy.size(0), gy.size(1), 3 * gy.size(2)}, gy.dtype(), gy.device());
             r.backward(head_view(contiguous_raw(gy), heads, 1, 0), head_view(g, heads, 3, 0), head_view(g, heads, 3, 1),
                        head_view(g, heads, 3, 2));
             return std::vector<Tensor>{g};
           });
  }
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction) {
  ProfileScope prof("cross_entropy");
  check_lookup("cross_entropy", logits, "logits", targets, "targets");
  MB_CHECK(logits.dim() >= 1, "cross_entropy: logits must have a class dim, got ", describe(logits));
  const Shape rows(logits.shape().begin(), logits.shape().end() - 1);
  MB_CHECK(targets.shape() == rows, "cross_entropy: targets ", describe(targets),
           " must have the shape of logits ", describe(logits), " without its last dim");
  const int64_t V = logits.size(-1), N = targets.numel();
  check_index_range("cross_entropy", targets, V, "target");
  const Tensor lc = contiguous_raw(logits), tc = contiguous_raw(targets);
  Tensor losses = Tensor::empty(rows, logits.dtype(), logits.device());
  Tensor lse = Tensor::empty({N}, stat_dtype(logits.dtype()), logits.device());
  kernels(logits.device()).cross_entropy(lc, tc, losses, lse);
  record(OpKind::cross_entropy, {logits}, losses,
         [l = save(lc), t = save(tc), lse = save(lse)](const Tensor& gy) {
           Tensor g = l.empty_like();
           kernels(l.device()).cross_entropy_backward(l, t, lse, contiguous_raw(gy), g);
           return std::vector<Tensor>{g};
         });
  if (reduction == Reduction::none) return losses;
  if (reduction == Reduction::sum) return sum(losses);
  MB_CHECK(N > 0, "cross_entropy: mean over zero targets");
  return mean(losses);
}

Tensor rope(const Tensor& x, int64_t offset) {
  ProfileScope prof("rope");
  check_defined("rope", x, "input");
  check_float("rope", x);
  MB_CHECK(x.dim() >= 2 && x.size(-1) % 2 == 0, "rope: input must be (..., T, D) with D even, got ", describe(x));
  const int64_t T = x.size(-2), half = x.size(-1) / 2;
  // angle of pair i at position t: t · 10000^(−i/half)
  std::vector<double> c(size_t(T * half)), s(size_t(T * half));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double a = double(offset + t) * std::pow(10000.0, -double(i) / double(half));
      c[size_t(t * half + i)] = std::cos(a);
      s[size_t(t * half + i)] = std::sin(a);
    }
  const Tensor cs = to(to(Tensor::from_vector(c, {T, half}), x.dtype()), x.device());
  const Tensor sn = to(to(Tensor::from_vector(s, {T, half}), x.dtype()), x.device());
  const Tensor x1 = narrow(x, -1, 0, half), x2 = narrow(x, -1, half, half);
  return concat({sub(mul(x1, cs), mul(x2, sn)), add(mul(x2, cs), mul(x1, sn))}, -1);
}

}  // namespace mb
