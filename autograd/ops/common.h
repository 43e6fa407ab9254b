// Shared checks and raw helpers of the op implementations (autograd/ops/*.cpp).
#pragma once
#include "autograd/ops.h"
#include "tensor/backend.h"
#include "tensor/profile.h"

namespace mb::detail {

// "op: <what> has shape [..] dtype f32" fragments for error messages
std::string describe(const Tensor& t);

void check_defined(const char* op, const Tensor& t, const char* what);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_float(const char* op, const Tensor& t);   // f32 or f64
void check_index(const char* op, const Tensor& t);   // u8, i32 or i64
// values (f32/f64) looked up by an index tensor on the same device (embedding, cross_entropy)
void check_lookup(const char* op, const Tensor& values, const char* vname, const Tensor& idx, const char* iname);
// every element of an index tensor in [0, limit): on the host here; on a device, by the kernels
// that read it (an error at the next synchronising call)
void check_index_range(const char* op, const Tensor& idx, int64_t limit, const char* what);

// NumPy broadcasting of two shapes; throws naming the op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// A stride-0 view of t broadcast to `shape` (no autograd): what kernels take.
Tensor broadcast_view(const Tensor& t, const Shape& shape);
// t itself if contiguous, else a contiguous copy (no autograd).
Tensor contiguous_raw(const Tensor& t);
// The dtype of the statistics an op saves for its backward (LayerNorm's mean and rstd, a
// log-sum-exp) over values of dtype d: f32 for bf16. A statistic stays at the precision it is
// computed in; bf16's 8 bits would shift every value recomputed from it.
inline DType stat_dtype(DType d) { return d == DType::BF16 ? DType::F32 : d; }
// Normalised, sorted, de-duplicated axes (empty = all).
std::vector<int64_t> normalize_axes(const char* op, std::vector<int64_t> axes, int64_t dim);

}  // namespace mb::detail
