// Fused ops with a kernel of their own for forward and backward: softmax, log_softmax,
// layer_norm, embedding, causal attention, cross-entropy.
#include <cmath>

#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

Tensor softmax_op(const Tensor& x, int64_t axis, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
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
  Tensor y = x.empty_like(), mu = Tensor::empty(rows, x.dtype(), x.device()),
         rstd = Tensor::empty(rows, x.dtype(), x.device());
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
  check_defined("embedding", weight, "weight");
  check_defined("embedding", idx, "indices");
  check_float("embedding", weight);
  check_index("embedding", idx);
  check_same_device("embedding", weight, idx);
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

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
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
  const double s = scale > 0 ? scale : 1.0 / std::sqrt(double(q.size(3)));
  // the kernel reads each (T, D) matrix in place when its rows are dense
  auto dense_rows = [](const Tensor& t) {
    return (t.strides()[3] == 1 || t.size(3) == 1) && (t.strides()[2] == t.size(3) || t.size(2) == 1)
               ? t
               : contiguous_raw(t);
  };
  const Tensor qc = dense_rows(q), kc = dense_rows(k), vc = dense_rows(v);
  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, q.dtype(), q.device());
  kernels(q.device()).attention(qc, kc, vc, s, out, lse);
  if (needs_grad({&q, &k, &v})) {
    record(OpKind::attention, {q, k, v}, out,
           [s, q = save(qc), k = save(kc), v = save(vc), o = save(out), lse = save(lse)](const Tensor& gy) {
             Tensor gq = Tensor::empty(q.shape(), q.dtype(), q.device()),
                    gk = Tensor::empty(k.shape(), k.dtype(), k.device()),
                    gv = Tensor::empty(v.shape(), v.dtype(), v.device());
             kernels(q.device()).attention_backward(q, k, v, o, lse, contiguous_raw(gy), s, gq, gk, gv);
             return std::vector<Tensor>{gq, gk, gv};
           });
  }
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction) {
  check_defined("cross_entropy", logits, "logits");
  check_defined("cross_entropy", targets, "targets");
  check_float("cross_entropy", logits);
  check_index("cross_entropy", targets);
  check_same_device("cross_entropy", logits, targets);
  MB_CHECK(logits.dim() >= 1, "cross_entropy: logits must have a class dim, got ", describe(logits));
  const Shape rows(logits.shape().begin(), logits.shape().end() - 1);
  MB_CHECK(targets.shape() == rows, "cross_entropy: targets ", describe(targets),
           " must have the shape of logits ", describe(logits), " without its last dim");
  const int64_t V = logits.size(-1), N = targets.numel();
  check_index_range("cross_entropy", targets, V, "target");
  const Tensor lc = contiguous_raw(logits), tc = contiguous_raw(targets);
  Tensor losses = Tensor::empty(rows, logits.dtype(), logits.device());
  Tensor lse = Tensor::empty({N}, logits.dtype(), logits.device());
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

}  // namespace mb
