// What every CUDA kernel file shares: error checks that name the call, file and line; the one
// stream all kernels run on; launch sizes; and the storage <-> compute types (bf16 storage
// computes in float, f32 in float, f64 in double).
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "tensor/backend.h"

namespace mb::cuda {

// Throws mb::Error "CUDA error in <call> at <file>:<line>: <message>" when e is not success.
void check(cudaError_t e, const char* call, const char* file, int line);

#define MB_CUDA_CHECK(call) ::mb::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: catches bad launch configurations at the launch site.
#define MB_CUDA_LAUNCH_CHECK() ::mb::cuda::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

// The stream every kernel and copy of the backend runs on (one stream: ops are ordered).
cudaStream_t stream();

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  return unsigned(b < 1 ? 1 : (b > 65535LL * 32 ? 65535LL * 32 : b));
}

// Storage type -> the type arithmetic happens in.
template <class T> struct Acc { using type = T; };
template <> struct Acc<__nv_bfloat16> { using type = float; };
template <class T> using acc_t = typename Acc<T>::type;

template <class T> __device__ __forceinline__ acc_t<T> load(const T* p) { return acc_t<T>(*p); }
template <> __device__ __forceinline__ float load(const __nv_bfloat16* p) { return __bfloat162float(*p); }
template <class T> __device__ __forceinline__ void store(T* p, acc_t<T> v) { *p = T(v); }
template <> __device__ __forceinline__ void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }

// Calls f(T{}) with T the device storage type of a floating dtype (f32, f64, bf16).
template <class F> decltype(auto) visit_floating(DType d, F&& f) {
  switch (d) {
    case DType::F64: return f(double{});
    case DType::BF16: return f(__nv_bfloat16{});
    default: return f(float{});
  }
}

template <class T> T* ptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

}  // namespace mb::cuda
