// What every CUDA kernel file shares: error checks that name the call, file and line; the one
// stream all kernels run on; launch sizes; and the storage <-> compute types (bf16 storage
// computes in float, f32 in float, f64 in double).
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math_constants.h>

#include <cstdint>

#include "tensor/backend.h"

namespace mb::cuda {

// Throws mb::Error "CUDA error in <call> at <file>:<line>: <message>" when e is not success.
void check(cudaError_t e, const char* call, const char* file, int line);

#define MB_CUDA_CHECK(call) ::mb::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: catches bad launch configurations at the launch site. With
// MB_CUDA_SYNC=1 in the environment it also waits for the kernel and reports a fault there,
// naming the launching function, file and line (otherwise a fault surfaces at some later
// synchronisation, far from its cause); and MB_PROFILE's per-op times become GPU times.
#define MB_CUDA_LAUNCH_CHECK() ::mb::cuda::after_launch(__func__, __FILE__, __LINE__)
void after_launch(const char* function, const char* file, int line);

// The stream every kernel and copy of the backend runs on (one stream: ops are ordered).
cudaStream_t stream();

// Compute capability of the current device (asked once): bf16 tensor cores (mma.sync,
// ldmatrix, cp.async) from 8.0 on.
int compute_capability_major();

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

// Math in the compute type, overloaded so that templates over float and double pick the
// precise float or double function (expf, not exp promoted to double).
template <class A> __device__ __forceinline__ A inf_of();
template <> __device__ __forceinline__ float inf_of<float>() { return CUDART_INF_F; }
template <> __device__ __forceinline__ double inf_of<double>() { return CUDART_INF; }
template <class A> __device__ __forceinline__ A nan_of();
template <> __device__ __forceinline__ float nan_of<float>() { return CUDART_NAN_F; }
template <> __device__ __forceinline__ double nan_of<double>() { return CUDART_NAN; }
__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return ::exp(x); }
__device__ __forceinline__ float log_of(float x) { return logf(x); }
__device__ __forceinline__ double log_of(double x) { return ::log(x); }
__device__ __forceinline__ float sqrt_of(float x) { return sqrtf(x); }
__device__ __forceinline__ double sqrt_of(double x) { return ::sqrt(x); }

// Element i of an index tensor of dtype U8, I32 or I64 (contiguous).
__device__ __forceinline__ int64_t index_at(const void* idx, DType dt, int64_t i) {
  if (dt == DType::U8) return static_cast<const uint8_t*>(idx)[i];
  if (dt == DType::I32) return static_cast<const int32_t*>(idx)[i];
  return static_cast<const int64_t*>(idx)[i];
}

}  // namespace mb::cuda
