// CPU memory kernels: allocation, strided copy with dtype conversion, fill, random, arange.
#include <cstdlib>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"
#include "tensor/philox.h"

namespace mb::cpu {

void* alloc(size_t nbytes) {
  const size_t rounded = (nbytes + 63) / 64 * 64;  // aligned_alloc needs a multiple of 64
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  MB_CHECK(p != nullptr, "out of memory allocating ", nbytes, " bytes on the CPU");
  return p;
}

void free(void* p) { std::free(p); }

void copy(const Tensor& src, const Tensor& dst) {
  visit_dtype(src.dtype(), [&](auto s) {
    visit_dtype(dst.dtype(), [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      for_each_row<2>(dst.shape(), {&dst, &src}, [](Ptrs<2> p, Steps<2> st, int64_t n) {
        if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
          D* y = reinterpret_cast<D*>(p[0]);
          const S* x = reinterpret_cast<const S*>(p[1]);
          for (int64_t j = 0; j < n; ++j) y[j] = cast_to<D>(x[j]);
        } else {
          for (int64_t j = 0; j < n; ++j)
            elem<D>(p[0], st[0], j) = cast_to<D>(elem<S>(p[1], st[1], j));
        }
      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    const T v = cast_to<T>(value);
    for_each_row<1>(dst.shape(), {&dst}, [v](Ptrs<1> p, Steps<1> st, int64_t n) {
      for (int64_t j = 0; j < n; ++j) elem<T>(p[0], st[0], j) = v;
    });
  });
}

void random(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    T* y = static_cast<T*>(dst.raw_data());
    parallel_for(0, dst.numel(), 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        y[i] = cast_to<T>(normal ? philox_normal(seed, offset + uint64_t(i))
                                 : philox_uniform(seed, offset + uint64_t(i)));
    });
  });
}

void arange(const Tensor& dst, double begin) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    T* y = static_cast<T*>(dst.raw_data());
    for (int64_t i = 0; i < dst.numel(); ++i) y[i] = cast_to<T>(begin + double(i));
  });
}

}  // namespace mb::cpu
