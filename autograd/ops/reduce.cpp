// Reductions over any set of axes: the kernel reduces the middle dim of an (A, R, N) view, so
// adjacent reduced axes of a contiguous tensor cost no copy; others are permuted last first.
#include <cmath>

#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {

// x seen as (A, R, N) with the reduced axes in the middle: a view when they are adjacent in
// a contiguous x (sums only; max and argmax want them last), a permuted copy otherwise.
struct Plan {
  Tensor x;                // contiguous, its elements in (A, R, N) order
  int64_t A = 1, R = 1, N = 1;
  Shape out_shape;         // the kept dims
  Shape keep_shape;        // x's shape with the reduced dims set to 1
};

Plan plan(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& axes_in) {
  const std::vector<int64_t> axes = normalize_axes(name, axes_in, x.dim());
  std::vector<bool> reduced(size_t(x.dim()), false);
  for (int64_t a : axes) reduced[size_t(a)] = true;
  Plan p;
  p.keep_shape = x.shape();
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[size_t(d)]) p.keep_shape[size_t(d)] = 1;
    else p.out_shape.push_back(x.shape()[size_t(d)]);
  }
  const bool adjacent = axes.empty() || axes.back() - axes.front() + 1 == int64_t(axes.size());
  if (op == ReduceOp::sum && adjacent && x.is_contiguous()) {
    p.x = x;
    for (int64_t d = 0; d < x.dim(); ++d) {
      const int64_t n = x.shape()[size_t(d)];
      if (reduced[size_t(d)]) p.R *= n;
      else if (axes.empty() || d < axes.front()) p.A *= n;
      else p.N *= n;
    }
    return p;
  }
  std::vector<int64_t> order;  // kept dims first, then the reduced ones
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduced[size_t(d)]) order.push_back(d);
  order.insert(order.end(), axes.begin(), axes.end());
  Shape shape, strides;
  for (int64_t d : order) {
    shape.push_back(x.shape()[size_t(d)]);
    strides.push_back(x.strides()[size_t(d)]);
    (reduced[size_t(d)] ? p.R : p.A) *= x.shape()[size_t(d)];
  }
  p.x = contiguous_raw(make_view(x, shape, strides, x.offset()));
  return p;
}

Tensor reduce_raw(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& axes,
                  bool keepdim, DType out_dtype, Plan* out_plan = nullptr) {
  ProfileScope prof(name);
  check_defined(name, x, "input");
  MB_CHECK(x.dtype() != DType::BF16 || x.device() != Device::CPU, name,
           ": bf16 is a storage type on the CPU; convert to f32 first");
  Plan p = plan(op, name, x, axes);
  MB_CHECK(op == ReduceOp::sum || p.R > 0, name, ": cannot reduce an empty axis of ", describe(x));
  Tensor y = Tensor::empty(p.out_shape, out_dtype, x.device());
  if (y.numel() > 0) kernels(x.device()).reduce(op, p.x, p.A, p.R, p.N, y);
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

bool all_finite(const Tensor& x) {
  if (!is_floating(x.dtype()) || x.numel() == 0) return true;
  NoGradGuard no_grad;
  // x·0 is 0 for every finite x and NaN for NaN and ±infinity: one reduction tells
  const Tensor xs = x.dtype() == DType::BF16 ? to(x, DType::F32) : x;
  return std::isfinite(sum(mul_scalar(xs, 0.0)).item());
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
