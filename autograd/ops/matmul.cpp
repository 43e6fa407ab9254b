// matmul with NumPy semantics: 1-D operands are vectors, leading (batch) dims broadcast.
// The kernel multiplies 3-D stacks; a stack is passed as a strided view whenever its batch
// dims fold into one stride and its matrices have a unit stride (so transposed weights are
// never copied), else it is made contiguous first.
#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

// x: (batch..., R, C) broadcast to batch `bshape` -> a (n, R, C) view or copy.
Tensor as_stack(const Tensor& x, const Shape& bshape) {
  Shape full = bshape;
  full.push_back(x.shape()[size_t(x.dim() - 2)]);
  full.push_back(x.shape()[size_t(x.dim() - 1)]);
  Tensor v = broadcast_view(x, full);
  const size_t nb = bshape.size();
  const int64_t rs = v.strides()[nb], cs = v.strides()[nb + 1];
  const bool unit = rs == 1 || cs == 1 || full[nb] == 1 || full[nb + 1] == 1;
  // the batch dims fold into one stride when each non-1 dim's stride is its inner non-1
  // neighbour's stride times that neighbour's size (all-broadcast batches fold to stride 0)
  bool folds = true;
  int64_t bstride = 0, expect = -1;
  for (size_t d = nb; d-- > 0;) {
    if (full[d] == 1) continue;
    if (expect < 0) bstride = v.strides()[d];
    else folds = folds && v.strides()[d] == expect;
    expect = v.strides()[d] * full[d];
  }
  const int64_t n = numel_of(bshape);
  if (unit && folds) return make_view(v, {n, full[nb], full[nb + 1]}, {bstride, rs, cs}, v.offset());
  Tensor c = Tensor::empty(full, x.dtype(), x.device());
  kernels(x.device()).copy(v, c);
  return make_view(c, {n, full[nb], full[nb + 1]}, {full[nb] * full[nb + 1], full[nb + 1], 1}, 0);
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  ProfileScope prof("matmul");
  check_defined("matmul", a_in, "first input");
  check_defined("matmul", b_in, "second input");
  check_same_device("matmul", a_in, b_in);
  check_same_dtype("matmul", a_in, b_in);
  check_float("matmul", a_in);
  MB_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul: scalars cannot be multiplied: ",
           describe(a_in), " and ", describe(b_in));
  // vectors: (K) -> (1, K) on the left, (K) -> (K, 1) on the right; squeezed again at the end
  if (a_in.dim() == 1) return squeeze(matmul(unsqueeze(a_in, 0), b_in), -2);
  if (b_in.dim() == 1) return squeeze(matmul(a_in, unsqueeze(b_in, 1)), -1);
  const Tensor &a = a_in, &b = b_in;
  const int64_t M = a.size(-2), K = a.size(-1), K2 = b.size(-2), N = b.size(-1);
  MB_CHECK(K == K2, "matmul: shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
           " do not match (inner dims ", K, " and ", K2, ")");
  const Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = broadcast_shapes("matmul", ab, bb);
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor y = Tensor::empty(out_shape, a.dtype(), a.device());
  if (b.dim() == 2 && a.dim() > 2) {
    // (batch..., M, K) @ (K, N): one GEMM of (batch·M, K) @ (K, N) when a's rows fold
    const Tensor ac = contiguous_raw(a);
    const int64_t rows = numel_of(batch) * M;
    kernels(a.device()).bmm(make_view(ac, {1, rows, K}, {0, K, 1}, ac.offset()), as_stack(b, {}),
                            make_view(y, {1, rows, N}, {0, N, 1}, 0), false);
  } else {
    kernels(a.device()).bmm(as_stack(a, batch), as_stack(b, batch),
                            make_view(y, {numel_of(batch), M, N}, {M * N, N, 1}, 0), false);
  }
  if (needs_grad({&a, &b})) {
    const bool ga_on = a.requires_grad(), gb_on = b.requires_grad();
    record(OpKind::matmul, {a, b}, y, [ga_on, gb_on, a = save(a), b = save(b)](const Tensor& gy) {
      Tensor ga, gb;
      if (ga_on) ga = sum_to(matmul(gy, transpose(b, -1, -2)), a.shape());
      if (gb_on) {
        if (b.dim() == 2)  // Σ over every row of a: one (K, rows) @ (rows, N) GEMM
          gb = matmul(transpose(reshape(a, {-1, a.size(-1)}), 0, 1), reshape(gy, {-1, gy.size(-1)}));
        else
          gb = sum_to(matmul(transpose(a, -1, -2), gy), b.shape());
      }
      return std::vector<Tensor>{ga, gb};
    });
  }
  return y;
}

namespace {

// y = x Wᵀ + b, and max(y, 0) when relu (one kernel: on CUDA the ReLU is the GEMM's epilogue)
Tensor linear_op(const char* name, const Tensor& x, const Tensor& w, const Tensor& b, bool relu) {
  ProfileScope prof(name);
  check_defined(name, x, "input");
  check_defined(name, w, "weight");
  check_float(name, x);
  check_same_device(name, x, w);
  check_same_dtype(name, x, w);
  MB_CHECK(w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1), name, ": input ", describe(x),
           " does not match weight ", describe(w), " (out, in)");
  const int64_t in = w.size(1), out = w.size(0), rows = x.numel() / std::max<int64_t>(in, 1);
  if (b.defined()) {
    check_same_device(name, x, b);
    check_same_dtype(name, x, b);
    MB_CHECK(b.shape() == Shape{out}, name, ": bias ", describe(b), " does not match weight ", describe(w));
  }
  Shape shape = x.shape();
  shape.back() = out;
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  const Tensor xc = contiguous_raw(x);
  auto rows_of = [&](const Tensor& t, int64_t cols) { return make_view(t, {rows, cols}, {cols, 1}, t.offset()); };
  kernels(x.device()).linear(rows_of(xc, in), contiguous_raw(w), b.defined() ? contiguous_raw(b) : b, relu,
                             rows_of(y, out));
  if (needs_grad({&x, &w, &b})) {
    const bool gx_on = x.requires_grad(), gw_on = w.requires_grad(), gb_on = b.defined() && b.requires_grad();
    record(OpKind::linear, {x, w, b}, y,
           [=, x = save(xc), w = save(w), y = relu ? save(y) : Tensor(), xs = x.shape()](const Tensor& gy) {
             Tensor g2 = contiguous_raw(reshape(gy, {rows, out}));
             if (relu) {  // through the ReLU: gy where y > 0 (y > 0 exactly where x Wᵀ + b > 0)
               const Tensor y2 = make_view(y, {rows, out}, {out, 1}, y.offset()), gpre = g2.empty_like();
               kernels(y.device()).unary_backward(UnaryOp::relu, y2, y2, 0, g2, gpre);
               g2 = gpre;
             }
             Tensor gw, gb;
             if (gw_on || gb_on) {  // gyᵀ x and Σ rows, together
               gw = Tensor::empty(w.shape(), w.dtype(), w.device());
               gb = gb_on ? Tensor::empty({out}, w.dtype(), w.device()) : Tensor();
               kernels(w.device()).linear_backward_weight(make_view(x, {rows, in}, {in, 1}, x.offset()), g2, gw, gb);
             }
             return std::vector<Tensor>{gx_on ? reshape(matmul(g2, w), xs) : Tensor(),  // gy W
                                        gw_on ? gw : Tensor(), gb};
           });
  }
  return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) { return linear_op("linear", x, w, b, false); }
Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& b) { return linear_op("linear_relu", x, w, b, true); }

}  // namespace mb
