// Reductions over any set of axes: the reduced axes are moved last (a permuted copy when they
// are not already there) and the kernel reduces contiguous rows.
#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

struct Plan {
  Tensor rows;        // (kept..., reduced...) contiguous
  int64_t row_len;    // product of the reduced sizes
  Shape out_shape;    // kept dims
  Shape keep_shape;   // x's shape with reduced dims set to 1
};

Plan plan(const char* op, const Tensor& x, const std::vector<int64_t>& axes_in) {
  const std::vector<int64_t> axes = normalize_axes(op, axes_in, x.dim());
  std::vector<bool> reduced(size_t(x.dim()), false);
  for (int64_t a : axes) reduced[size_t(a)] = true;
  std::vector<int64_t> order;
  Plan p{Tensor(), 1, {}, x.shape()};
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduced[size_t(d)]) {
      order.push_back(d);
      p.out_shape.push_back(x.shape()[size_t(d)]);
    }
  for (int64_t a : axes) {
    order.push_back(a);
    p.row_len *= x.shape()[size_t(a)];
    p.keep_shape[size_t(a)] = 1;
  }
  Shape shape, strides;
  for (int64_t d : order) {
    shape.push_back(x.shape()[size_t(d)]);
    strides.push_back(x.strides()[size_t(d)]);
  }
  p.rows = contiguous_raw(make_view(x, shape, strides, x.offset()));
  return p;
}

Tensor reduce_raw(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& axes,
                  bool keepdim, DType out_dtype, Plan* out_plan = nullptr) {
  check_defined(name, x, "input");
  MB_CHECK(x.dtype() != DType::BF16, name, ": bf16 is a storage type; convert to f32 first");
  Plan p = plan(name, x, axes);
  MB_CHECK(op == ReduceOp::sum || p.row_len > 0, name, ": cannot reduce an empty axis of ",
           describe(x));
  Tensor y = Tensor::empty(p.out_shape, out_dtype, x.device());
  kernels(x.device()).reduce_rows(op, p.rows, p.row_len, y);
  if (keepdim) y = make_view(y, p.keep_shape, contiguous_strides(p.keep_shape), 0);
  if (out_plan) *out_plan = p;
  return y;
}

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  MB_CHECK(shape.size() <= size_t(x.dim()), "sum_to: cannot sum ", describe(x), " to ",
           to_string(shape));
  const size_t lead = size_t(x.dim()) - shape.size();
  std::vector<int64_t> axes;
  for (size_t d = 0; d < size_t(x.dim()); ++d) {
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) axes.push_back(int64_t(d));
    else
      MB_CHECK(shape[d - lead] == x.shape()[d], "sum_to: cannot sum ", describe(x), " to ",
               to_string(shape));
  }
  return axes.empty() ? reshape(x, shape) : reshape(sum(x, axes, true), shape);
}

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  Plan p;
  Tensor y = reduce_raw(ReduceOp::sum, "sum", x, axes, keepdim, x.dtype(), &p);
  record(OpKind::sum, {x}, y, [keep = p.keep_shape, in = x.shape()](const Tensor& gy) {
    return std::vector<Tensor>{expand(reshape(gy, keep), in)};
  });
  return y;
}

Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  check_defined("mean", x, "input");
  check_float("mean", x);
  int64_t n = 1;
  for (int64_t a : normalize_axes("mean", axes, x.dim())) n *= x.shape()[size_t(a)];
  MB_CHECK(n > 0, "mean: mean over an empty axis of ", describe(x));
  return mul_scalar(sum(x, axes, keepdim), 1.0 / double(n));
}

// The gradient goes to the maximal elements, split evenly between ties.
Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdim) {
  Plan p;
  Tensor y = reduce_raw(ReduceOp::max, "max", x, axes, keepdim, x.dtype(), &p);
  if (needs_grad({&x})) {
    record(OpKind::max, {x}, y, [x = save(x), keep = p.keep_shape, axes, y = save(y)](const Tensor& gy) {
      const Tensor hit = to(eq(x, reshape(y, keep)), x.dtype());
      const Tensor count = sum(hit, axes, true);
      return std::vector<Tensor>{mul(hit, div(reshape(gy, keep), count))};
    });
  }
  return y;
}

Tensor var(const Tensor& x, std::vector<int64_t> axes, bool keepdim, int64_t correction) {
  check_defined("var", x, "input");
  check_float("var", x);
  int64_t n = 1;
  for (int64_t a : normalize_axes("var", axes, x.dim())) n *= x.shape()[size_t(a)];
  MB_CHECK(n - correction > 0, "var: ", n, " elements with correction ", correction,
           " leave no degrees of freedom");
  const Tensor d = sub(x, mean(x, axes, true));
  return mul_scalar(sum(square(d), axes, keepdim), 1.0 / double(n - correction));
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  return reduce_raw(ReduceOp::argmax, "argmax", x, {wrap_axis(axis, x.dim(), "argmax")}, keepdim,
                    DType::I64);
}

}  // namespace mb
