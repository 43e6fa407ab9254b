// View ops (no copy: new shape/strides/offset over the same storage) and copies, each with its
// backward rule. Gradients of views are views or scatters of the output gradient.
#include <algorithm>
#include <numeric>
#include <optional>

#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

namespace {
// The strides that show x's elements, in row-major order, as `shape` without moving them;
// none when no strides can (e.g. merging a transposed pair of dims). Each run of x's dims that
// is contiguous in memory (a "chunk") must be split or merged into whole dims of `shape`.
// The same rule as PyTorch's view.
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  if (x.is_contiguous() || x.numel() == 0) return contiguous_strides(shape);
  const Shape& old = x.shape();
  const Shape& old_strides = x.strides();
  Shape strides(shape.size());
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_stride = old_strides.back(), chunk_numel = 1, view_numel = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    chunk_numel *= old[size_t(d)];
    const bool chunk_ends = d == 0 || (old[size_t(d - 1)] != 1 && old_strides[size_t(d - 1)] != chunk_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < chunk_numel || shape[size_t(view_d)] == 1)) {
      strides[size_t(view_d)] = view_numel * chunk_stride;
      view_numel *= shape[size_t(view_d)];
      --view_d;
    }
    if (view_numel != chunk_numel) return std::nullopt;
    if (d > 0) {
      chunk_stride = old_strides[size_t(d - 1)];
      chunk_numel = view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}
}  // namespace

Tensor reshape(const Tensor& x, Shape shape) {
  check_defined("reshape", x, "input");
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      MB_CHECK(infer < 0, "reshape: more than one -1 in ", to_string(shape));
      infer = int64_t(i);
    } else {
      MB_CHECK(shape[i] >= 0, "reshape: invalid size ", shape[i], " in ", to_string(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    MB_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape ", describe(x),
             " into ", to_string(shape));
    shape[size_t(infer)] = x.numel() / known;
  }
  MB_CHECK(numel_of(shape) == x.numel(), "reshape: cannot reshape ", describe(x), " (",
           x.numel(), " elements) into ", to_string(shape), " (", numel_of(shape), " elements)");
  if (shape == x.shape()) return x;
  // a view when x's strides allow one (always for a contiguous x), else a contiguous copy
  const std::optional<Shape> strides = view_strides(x, shape);
  const Tensor src = strides ? x : contiguous_raw(x);
  Tensor y = make_view(src, shape, strides ? *strides : contiguous_strides(shape), src.offset());
  const Shape in = x.shape();
  record(OpKind::reshape, {x}, y, [in](const Tensor& gy) {
    return std::vector<Tensor>{reshape(gy, in)};
  });
  return y;
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined("permute", x, "input");
  MB_CHECK(int64_t(dims.size()) == x.dim(), "permute: ", dims.size(), " dims given for ",
           describe(x));
  std::vector<int64_t> p(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    p[i] = wrap_axis(dims[i], x.dim(), "permute");
    MB_CHECK(!seen[size_t(p[i])], "permute: dim ", p[i], " appears twice");
    seen[size_t(p[i])] = true;
    inverse[size_t(p[i])] = int64_t(i);
  }
  Shape shape(p.size()), strides(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    shape[i] = x.shape()[size_t(p[i])];
    strides[i] = x.strides()[size_t(p[i])];
  }
  Tensor y = make_view(x, shape, strides, x.offset());
  record(OpKind::permute, {x}, y, [inverse](const Tensor& gy) {
    return std::vector<Tensor>{permute(gy, inverse)};
  });
  return y;
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
  check_defined("transpose", x, "input");
  std::vector<int64_t> p(size_t(x.dim()));
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[size_t(wrap_axis(a, x.dim(), "transpose"))], p[size_t(wrap_axis(b, x.dim(), "transpose"))]);
  return permute(x, p);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  check_defined("slice", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim(), "slice"), n = x.shape()[size_t(ax)];
  MB_CHECK(step >= 1, "slice: step must be >= 1, got ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape(), strides = x.strides();
  shape[size_t(ax)] = (end - start + step - 1) / step;
  strides[size_t(ax)] *= step;
  Tensor y = make_view(x, shape, strides, x.offset() + start * x.strides()[size_t(ax)]);
  const Shape in = x.shape();
  const DType dt = x.dtype();
  const Device dev = x.device();
  record(OpKind::slice, {x}, y, [=](const Tensor& gy) {
    Tensor gx = Tensor::zeros(in, dt, dev);
    copy_(slice(gx, ax, start, end, step), gy);
    return std::vector<Tensor>{gx};
  });
  return y;
}

Tensor narrow(const Tensor& x, int64_t axis, int64_t start, int64_t length) {
  check_defined("narrow", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim(), "narrow"), n = x.shape()[size_t(ax)];
  MB_CHECK(start >= 0 && length >= 0 && start + length <= n, "narrow: range [", start, ", ",
           start + length, ") is outside axis ", ax, " of ", describe(x));
  return slice(x, ax, start, start + length);
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
  check_defined("select", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim(), "select"), n = x.shape()[size_t(ax)];
  MB_CHECK(index >= -n && index < n, "select: index ", index, " is out of range for axis ", ax,
           " of ", describe(x));
  return squeeze(narrow(x, ax, index < 0 ? index + n : index, 1), ax);
}

Tensor expand(const Tensor& x, const Shape& shape_in) {
  check_defined("expand", x, "input");
  MB_CHECK(shape_in.size() >= size_t(x.dim()), "expand: cannot expand ", describe(x), " to ",
           to_string(shape_in), " (fewer dims)");
  Shape shape = shape_in;
  const size_t lead = shape.size() - size_t(x.dim());
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t have = i < lead ? 1 : x.shape()[i - lead];
    if (shape[i] == -1) {
      MB_CHECK(i >= lead, "expand: -1 is not allowed for a new leading dim in ", to_string(shape_in));
      shape[i] = have;
    }
    MB_CHECK(have == shape[i] || have == 1, "expand: cannot expand ", describe(x), " to ",
             to_string(shape_in), " (dim ", i, ": ", have, " vs ", shape[i], ")");
  }
  if (shape == x.shape()) return x;
  Tensor y = broadcast_view(x, shape);
  const Shape in = x.shape();
  record(OpKind::expand, {x}, y, [in](const Tensor& gy) {
    return std::vector<Tensor>{sum_to(gy, in)};
  });
  return y;
}

Tensor unsqueeze(const Tensor& x, int64_t axis) {
  check_defined("unsqueeze", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(s.begin() + ax, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t axis) {
  check_defined("squeeze", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim(), "squeeze");
  MB_CHECK(x.shape()[size_t(ax)] == 1, "squeeze: axis ", ax, " of ", describe(x),
           " has size ", x.shape()[size_t(ax)], ", not 1");
  Shape s = x.shape();
  s.erase(s.begin() + ax);
  return reshape(x, s);
}

namespace {
// The shared body of contiguous/clone/to: a fresh copy of x in `dtype` on `device` whose
// gradient is gy converted back to x's dtype and device.
Tensor copy_op(const Tensor& x, DType dtype, Device device, OpKind kind) {
  ProfileScope prof(op_name(kind));
  Tensor y = Tensor::empty(x.shape(), dtype, device);
  if (device == x.device()) {
    kernels(device).copy(x, y);
  } else {  // convert on x's device into contiguous memory, then move the bytes
    Tensor src = x;
    if (dtype != x.dtype() || !x.is_contiguous()) {
      src = Tensor::empty(x.shape(), dtype, x.device());
      kernels(x.device()).copy(x, src);
    }
    copy_across_devices(src, y);
  }
  const DType dt = x.dtype();
  const Device dev = x.device();
  record(kind, {x}, y, [dt, dev](const Tensor& gy) {
    return std::vector<Tensor>{to(to(gy, dev), dt)};
  });
  return y;
}
}  // namespace

Tensor contiguous(const Tensor& x) {
  check_defined("contiguous", x, "input");
  return x.is_contiguous() ? x : copy_op(x, x.dtype(), x.device(), OpKind::contiguous);
}

Tensor clone(const Tensor& x) {
  check_defined("clone", x, "input");
  return copy_op(x, x.dtype(), x.device(), OpKind::clone);
}

Tensor to(const Tensor& x, DType dtype) {
  check_defined("to", x, "input");
  if (x.dtype() == dtype) return x;
  MB_CHECK(is_floating(dtype) || !x.requires_grad() || !grad_enabled(),
           "to: converting ", describe(x), " that requires grad to ", dtype_name(dtype),
           " would cut the gradient; detach() it first");
  return copy_op(x, dtype, x.device(), OpKind::to_dtype);
}

Tensor to(const Tensor& x, Device device) {
  check_defined("to", x, "input");
  if (x.device() == device) return x;
  return copy_op(x, x.dtype(), device, OpKind::to_device);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  check_defined("split", x, "input");
  const int64_t ax = wrap_axis(axis, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    MB_CHECK(s >= 0, "split: negative size ", s);
    total += s;
  }
  MB_CHECK(total == x.shape()[size_t(ax)], "split: sizes sum to ", total, " but axis ", ax,
           " of ", describe(x), " has ", x.shape()[size_t(ax)]);
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, ax, at, s));
    at += s;
  }
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  ProfileScope prof("concat");
  MB_CHECK(!xs.empty(), "concat: no tensors given");
  for (const Tensor& t : xs) check_defined("concat", t, "an input");
  const Tensor& first = xs[0];
  const int64_t ax = wrap_axis(axis, first.dim(), "concat");
  Shape shape = first.shape();
  shape[size_t(ax)] = 0;
  for (const Tensor& t : xs) {
    check_same_device("concat", first, t);
    check_same_dtype("concat", first, t);
    bool ok = t.dim() == first.dim();
    for (int64_t d = 0; ok && d < t.dim(); ++d)
      ok = d == ax || t.shape()[size_t(d)] == first.shape()[size_t(d)];
    MB_CHECK(ok, "concat: shapes ", to_string(first.shape()), " and ", to_string(t.shape()),
             " differ outside axis ", ax);
    shape[size_t(ax)] += t.shape()[size_t(ax)];
  }
  Tensor y = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : xs) {
    const int64_t n = t.shape()[size_t(ax)];
    Shape st = y.strides();
    Shape sh = y.shape();
    sh[size_t(ax)] = n;
    kernels(y.device()).copy(t, make_view(y, sh, st, at * y.strides()[size_t(ax)]));
    sizes.push_back(n);
    at += n;
  }
  record(OpKind::concat, xs, y, [sizes, ax](const Tensor& gy) { return split(gy, sizes, ax); });
  return y;
}

void copy_(const Tensor& dst, const Tensor& src) {
  ProfileScope prof("copy_");
  check_defined("copy_", dst, "destination");
  check_defined("copy_", src, "source");
  MB_CHECK(!dst.requires_grad() || !grad_enabled(), "copy_: the destination ", describe(dst),
           " requires grad; in-place writes are only allowed under NoGradGuard");
  const Shape s = broadcast_shapes("copy_", src.shape(), dst.shape());
  MB_CHECK(s == dst.shape(), "copy_: source ", describe(src), " does not broadcast to ",
           "destination ", describe(dst));
  if (src.device() != dst.device()) {
    const Tensor moved = to(src, dst.device());
    kernels(dst.device()).copy(broadcast_view(moved, dst.shape()), dst);
    return;
  }
  kernels(dst.device()).copy(broadcast_view(src, dst.shape()), dst);
}

void fill_(const Tensor& dst, double value) {
  ProfileScope prof("fill_");
  check_defined("fill_", dst, "destination");
  MB_CHECK(!dst.requires_grad() || !grad_enabled(), "fill_: the destination ", describe(dst),
           " requires grad; in-place writes are only allowed under NoGradGuard");
  kernels(dst.device()).fill(dst, value);
}

}  // namespace mb
