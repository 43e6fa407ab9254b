// CPU gather/scatter of embedding rows.
#include <cstring>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

// out (N, D) = weight[idx[n]]
void embedding(const Tensor& weight, const Tensor& idx, const Tensor& out) {
  const int64_t N = idx.numel(), D = weight.shape()[1];
  const size_t row_bytes = size_t(D) * dtype_size(weight.dtype());
  const char* w = static_cast<const char*>(weight.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  parallel_for(0, N, std::max<int64_t>(1, 4096 / std::max<int64_t>(D, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t n = lo; n < hi; ++n)
      std::memcpy(o + size_t(n) * row_bytes, w + size_t(index_at(idx, n)) * row_bytes, row_bytes);
  });
}

// gweight[idx[n]] += gy[n]. Threads split the D columns, so each element of gweight is
// summed by one thread in the order of n: deterministic.
void embedding_backward(const Tensor& idx, const Tensor& gy, const Tensor& gweight) {
  const int64_t N = idx.numel(), D = gweight.shape()[1];
  visit_float(gweight.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* g = static_cast<const T*>(gy.raw_data());
    T* gw = static_cast<T*>(gweight.raw_data());
    parallel_for(0, D, 16, [&](int64_t lo, int64_t hi) {
      for (int64_t n = 0; n < N; ++n) {
        T* dst = gw + index_at(idx, n) * D;
        const T* src = g + n * D;
        for (int64_t j = lo; j < hi; ++j) dst[j] += src[j];
      }
    });
  });
}

}  // namespace mb::cpu
