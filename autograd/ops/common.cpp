#include "autograd/ops/common.h"

#include <algorithm>

namespace mb::detail {

std::string describe(const Tensor& t) {
  return cat(to_string(t.shape()), " ", dtype_name(t.dtype()),
             t.device() == Device::CPU ? "" : " on cuda");
}

void check_defined(const char* op, const Tensor& t, const char* what) {
  MB_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  MB_CHECK(a.device() == b.device(), op, ": tensors are on different devices: ", describe(a),
           " on ", device_name(a.device()), " and ", describe(b), " on ",
           device_name(b.device()));
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  MB_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", describe(a), " and ", describe(b),
           " (convert one with to())");
}

// bf16 is a storage type on the CPU (convert to f32 to compute); the GPU computes with it
// (in f32 registers), which is what mixed precision uses.
void check_float(const char* op, const Tensor& t) {
  const bool ok = t.dtype() == DType::F32 || t.dtype() == DType::F64 ||
                  (t.dtype() == DType::BF16 && t.device() != Device::CPU);
  MB_CHECK(ok, op, ": expected an f32 or f64 tensor", t.device() == Device::CPU ? "" : " (or bf16)", ", got ", describe(t));
}

void check_index(const char* op, const Tensor& t) {
  MB_CHECK(is_integral(t.dtype()), op, ": expected an integer index tensor (u8, i32, i64), got ",
           describe(t));
}

void check_lookup(const char* op, const Tensor& values, const char* vname, const Tensor& idx, const char* iname) {
  check_defined(op, values, vname);
  check_defined(op, idx, iname);
  check_float(op, values);
  check_index(op, idx);
  check_same_device(op, values, idx);
}

void check_index_range(const char* op, const Tensor& idx, int64_t limit, const char* what) {
  // Indices on a device are checked by the kernels that read them, with no copy and no wait
  // (cuda/indices.cuh): the error comes at the next synchronising call.
  if (idx.device() != Device::CPU) return;
  const Tensor c = contiguous_raw(idx);
  for (int64_t i = 0; i < c.numel(); ++i) {
    int64_t v = 0;
    if (c.dtype() == DType::U8) v = static_cast<const uint8_t*>(c.raw_data())[i];
    else if (c.dtype() == DType::I32) v = static_cast<const int32_t*>(c.raw_data())[i];
    else v = static_cast<const int64_t*>(c.raw_data())[i];
    MB_CHECK(v >= 0 && v < limit, op, ": ", what, " ", v, " at flat position ", i,
             " is out of range [0, ", limit, ")");
  }
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    MB_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", to_string(a), " and ",
             to_string(b), " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcast_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  const size_t n = shape.size(), lead = n - size_t(t.dim());
  Shape strides(n, 0);
  for (size_t i = lead; i < n; ++i)
    strides[i] = t.shape()[i - lead] == 1 && shape[i] != 1 ? 0 : t.strides()[i - lead];
  return make_view(t, shape, strides, t.offset());
}

Tensor contiguous_raw(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = t.empty_like();
  kernels(t.device()).copy(t, c);
  return c;
}

std::vector<int64_t> normalize_axes(const char* op, std::vector<int64_t> axes, int64_t dim) {
  if (axes.empty()) {
    for (int64_t i = 0; i < dim; ++i) axes.push_back(i);
    return axes;
  }
  for (auto& a : axes) a = wrap_axis(a, dim, op);
  std::sort(axes.begin(), axes.end());
  MB_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op,
           ": an axis is repeated");
  return axes;
}

}  // namespace mb::detail
