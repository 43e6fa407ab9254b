// Elementwise ops: unary (and scalar variants), binary with broadcasting, comparisons,
// where/masked_fill, dropout. The formulas and derivatives are in tensor/elementwise_ops.h;
// here is how each op's gradient is routed (and summed back over broadcast dims).
#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

Tensor unary_op(UnaryOp op, const Tensor& x, double s) {
  ProfileScope prof(op_name(op));
  check_defined(op_name(op), x, "input");
  check_float(op_name(op), x);
  Tensor y = x.empty_like();
  kernels(x.device()).unary(op, x, s, y);
  if (needs_grad({&x})) {
    record(op_kind(op), {x}, y, [op, s, x = save(x), y = save(y)](const Tensor& gy) {
      Tensor gx = x.empty_like();
      kernels(x.device()).unary_backward(op, x, y, s, gy, gx);
      return std::vector<Tensor>{gx};
    });
  }
  return y;
}

// The checks of a two-input op; returns the broadcast shape.
Shape check_pair(const char* name, const Tensor& a, const Tensor& b) {
  check_defined(name, a, "first input");
  check_defined(name, b, "second input");
  check_same_device(name, a, b);
  check_same_dtype(name, a, b);
  return broadcast_shapes(name, a.shape(), b.shape());
}

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b) {
  ProfileScope prof(op_name(op));
  const Shape shape = check_pair(op_name(op), a, b);
  check_float(op_name(op), a);
  Tensor y = Tensor::empty(shape, a.dtype(), a.device());
  kernels(a.device()).binary(op, broadcast_view(a, shape), broadcast_view(b, shape), y);
  if (!needs_grad({&a, &b})) return y;
  const bool ga_on = a.requires_grad(), gb_on = b.requires_grad();
  if (op == BinaryOp::add || op == BinaryOp::sub) {  // the gradient is gy itself (negated for b of sub)
    const bool negate_b = op == BinaryOp::sub;
    record(op_kind(op), {a, b}, y, [=, as = a.shape(), bs = b.shape()](const Tensor& gy) {
      return std::vector<Tensor>{ga_on ? sum_to(gy, as) : Tensor(),
                                 gb_on ? (negate_b ? neg(sum_to(gy, bs)) : sum_to(gy, bs)) : Tensor()};
    });
    return y;
  }
  record(op_kind(op), {a, b}, y, [op, ga_on, gb_on, a = save(a), b = save(b), y = save(y)](const Tensor& gy) {
    const Shape& s = y.shape();
    Tensor ga = ga_on ? y.empty_like() : Tensor(), gb = gb_on ? y.empty_like() : Tensor();
    kernels(y.device()).binary_backward(op, broadcast_view(a, s), broadcast_view(b, s), y, gy, ga, gb);
    return std::vector<Tensor>{ga_on ? sum_to(ga, a.shape()) : Tensor(), gb_on ? sum_to(gb, b.shape()) : Tensor()};
  });
  return y;
}

Tensor compare_op(CompareOp op, const Tensor& a, const Tensor& b) {
  const Shape shape = check_pair(op_name(op), a, b);
  Tensor y = Tensor::empty(shape, DType::U8, a.device());
  kernels(a.device()).compare(op, broadcast_view(a, shape), broadcast_view(b, shape), y);
  return y;
}

}  // namespace

#define MB_DEFINE_UNARY(name, ...) \
  Tensor name(const Tensor& x) { return unary_op(UnaryOp::name, x, 0.0); }
MB_UNARY_OPS(MB_DEFINE_UNARY)
#undef MB_DEFINE_UNARY

#define MB_DEFINE_SCALAR(name, ...) \
  Tensor name(const Tensor& x, double s) { return unary_op(UnaryOp::name, x, s); }
MB_SCALAR_OPS(MB_DEFINE_SCALAR)
#undef MB_DEFINE_SCALAR

#define MB_DEFINE_BINARY(name, ...) \
  Tensor name(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::name, a, b); }
MB_BINARY_OPS(MB_DEFINE_BINARY)
#undef MB_DEFINE_BINARY

#define MB_DEFINE_COMPARE(name, ...) \
  Tensor name(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::name, a, b); }
MB_COMPARE_OPS(MB_DEFINE_COMPARE)
#undef MB_DEFINE_COMPARE

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  ProfileScope prof("where");
  check_defined("where", cond, "condition");
  check_defined("where", a, "first input");
  check_defined("where", b, "second input");
  MB_CHECK(cond.dtype() == DType::U8, "where: the condition must be a u8 mask, got ",
           describe(cond));
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  check_same_dtype("where", a, b);
  const Shape shape =
      broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
  Tensor y = Tensor::empty(shape, a.dtype(), a.device());
  kernels(a.device()).where(broadcast_view(cond, shape), broadcast_view(a, shape),
                            broadcast_view(b, shape), y);
  if (needs_grad({&a, &b})) {
    record(OpKind::where, {a, b}, y,
           [c = save(cond), as = a.shape(), bs = b.shape()](const Tensor& gy) {
             const Tensor zero = Tensor::zeros({}, gy.dtype(), gy.device());
             return std::vector<Tensor>{sum_to(where(c, gy, zero), as),
                                        sum_to(where(c, zero, gy), bs)};
           });
  }
  return y;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined("masked_fill", x, "input");
  const Tensor fill = Tensor::full({}, value, x.dtype(), x.device());
  return where(mask, fill, x);
}

Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, bool training) {
  check_defined("dropout", x, "input");
  check_float("dropout", x);
  MB_CHECK(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  // scale = 1/(1-p) where U >= p, else 0; U ~ U(0,1) from the stream (seed, offset)
  Tensor u = x.empty_like();
  kernels(x.device()).random(u, seed, offset, false);
  const auto scalar = [&](double v) { return Tensor::full({}, v, x.dtype(), x.device()); };
  const Tensor scale = where(ge(u, scalar(p)), scalar(p < 1 ? 1.0 / (1.0 - p) : 0.0), scalar(0));
  Tensor y = x.empty_like();
  kernels(x.device()).binary(BinaryOp::mul, x, scale, y);
  record(OpKind::dropout, {x}, y, [scale](const Tensor& gy) {
    return std::vector<Tensor>{mul(gy, scale)};
  });
  return y;
}

}  // namespace mb
