// Elementwise loops over strided operands on the GPU: the same idea as the CPU's
// for_each_row (tensor/cpu/loops.h). Size-1 dims are dropped and dims contiguous in every
// operand merged, so a contiguous tensor is one dim; when every operand is that one dim with
// stride 1 the loop does no index arithmetic at all (no 64-bit division per element).
#pragma once
#include <array>
#include <type_traits>

#include "cuda/common.cuh"

namespace mb::cuda {

constexpr int kMaxDims = 8;

// Element offsets (in elements) of N operands for linear index i of the shared shape.
template <int N> struct Strided {
  int nd = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};
  __device__ void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t idx = i % size[d];
      i /= size[d];
      for (int k = 0; k < N; ++k) off[k] += idx * stride[k][d];
    }
  }
};

template <int N> Strided<N> make_strided(const Shape& shape, const std::array<const Tensor*, N>& ops) {
  Strided<N> s;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = s.nd > 0;
    for (int k = 0; k < N && merge; ++k)
      merge = s.stride[k][s.nd - 1] == ops[size_t(k)]->strides()[d] * shape[d];
    if (merge) {
      s.size[s.nd - 1] *= shape[d];
      for (int k = 0; k < N; ++k) s.stride[k][s.nd - 1] = ops[size_t(k)]->strides()[d];
      continue;
    }
    MB_CHECK(s.nd < kMaxDims, "cuda: a strided operand of shape ", to_string(shape), " has more than ",
             kMaxDims, " non-mergeable dims");
    s.size[s.nd] = shape[d];
    for (int k = 0; k < N; ++k) s.stride[k][s.nd] = ops[size_t(k)]->strides()[d];
    ++s.nd;
  }
  return s;
}

template <int N, class F> __global__ void for_each_kernel(int64_t n, Strided<N> s, F f) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[N];
    s.offsets(i, off);
    f(off);
  }
}

// Every operand contiguous in the same order (the common case): the offset is the index, no
// division at all, and in 32-bit arithmetic when it fits (Index = int32_t).
template <int N, class Index, class F> __global__ void for_each_contiguous_kernel(Index n, F f) {
  for (Index i = Index(blockIdx.x) * Index(blockDim.x) + Index(threadIdx.x); i < n; i += Index(blockDim.x) * Index(gridDim.x)) {
    int64_t off[N];
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = i;
    f(off);
  }
}

template <int N> bool contiguous_in_all(const Strided<N>& s) {
  if (s.nd > 1) return false;
  for (int k = 0; k < N; ++k)
    if (s.nd == 1 && s.stride[k][0] != 1) return false;
  return true;
}

// Calls f(off) on the device for every element of `shape`; off[k] is operand k's element
// offset from its raw_data().
template <int N, class F> void for_each(const Shape& shape, const std::array<const Tensor*, N>& ops, F f) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const Strided<N> s = make_strided<N>(shape, ops);
  if (!contiguous_in_all(s)) {
    for_each_kernel<N><<<blocks_for(n), kThreads, 0, stream()>>>(n, s, f);
  } else if (n <= int64_t(0x7fffffff) - int64_t(kThreads) * 65535 * 32) {  // i + the grid's stride fits an int32
    for_each_contiguous_kernel<N, int32_t><<<blocks_for(n), kThreads, 0, stream()>>>(int32_t(n), f);
  } else {
    for_each_contiguous_kernel<N, int64_t><<<blocks_for(n), kThreads, 0, stream()>>>(n, f);
  }
  MB_CUDA_LAUNCH_CHECK();
}

// ---- 128-bit packs: out = f(in...) element by element, every operand contiguous with out's
// shape and on 16 bytes (an activation, its gradient): a thread loads and stores 16 bytes per
// operand at once (4 f32, 8 bf16, 2 f64), the tail element by element.
template <class T> constexpr int kPack = 16 / int(sizeof(T));
template <class T> struct alignas(16) Pack {
  T v[kPack<T>];
};
// One 16-byte load or store, which nvcc makes of a Pack's copy. The emulator's profile build
// (clang, cuda/emu/emu_profile.h) would copy the struct element by element and count 8 requests
// where a GPU issues one, so there the copy goes through a 16-byte vector type.
#ifdef EMU_PROFILE
typedef int PackBits __attribute__((ext_vector_type(4)));
template <class T> __device__ inline Pack<T> load_pack(const T* p) {
  const PackBits bits = *reinterpret_cast<const PackBits*>(p);
  Pack<T> r;
  __builtin_memcpy(&r, &bits, 16);
  return r;
}
template <class T> __device__ inline void store_pack(T* p, const Pack<T>& v) {
  PackBits bits;
  __builtin_memcpy(&bits, &v, 16);
  *reinterpret_cast<PackBits*>(p) = bits;
}
#else
template <class T> __device__ inline Pack<T> load_pack(const T* p) { return *reinterpret_cast<const Pack<T>*>(p); }
template <class T> __device__ inline void store_pack(T* p, const Pack<T>& v) { *reinterpret_cast<Pack<T>*>(p) = v; }
#endif
template <class T, int N> struct Inputs {
  const T* p[N];
};

// f(const acc_t<T> (&v)[N]) -> acc_t<T>: v[k] is input k's element
template <class T, int N, class F> __global__ void __launch_bounds__(kThreads) map_packed_kernel(int64_t n, Inputs<T, N> in, T* out, F f) {
  using A = acc_t<T>;
  constexpr int W = kPack<T>;
  const int64_t packs = n / W, step = int64_t(blockDim.x) * gridDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < packs; i += step) {
    Pack<T> x[N], y;
#pragma unroll
    for (int k = 0; k < N; ++k) x[k] = load_pack(in.p[k] + i * W);
#pragma unroll
    for (int e = 0; e < W; ++e) {
      A v[N];
#pragma unroll
      for (int k = 0; k < N; ++k) v[k] = load(&x[k].v[e]);
      store(&y.v[e], f(v));
    }
    store_pack(out + i * W, y);
  }
  for (int64_t i = packs * W + first; i < n; i += step) {
    A v[N];
#pragma unroll
    for (int k = 0; k < N; ++k) v[k] = load(in.p[k] + i);
    store(out + i, f(v));
  }
}

// Runs f over packs when out and every input are contiguous, of out's shape and 16-byte
// aligned; false (nothing run) otherwise, for the strided loop.
template <class T, int N, class F>
bool map_packed(const Tensor& out, const std::array<const Tensor*, N>& ins, F f) {
  auto fits = [&](const Tensor& t) {
    return t.shape() == out.shape() && t.is_contiguous() && reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0;
  };
  if (!fits(out)) return false;
  Inputs<T, N> in{};
  for (int k = 0; k < N; ++k) {
    if (!fits(*ins[size_t(k)])) return false;
    in.p[k] = static_cast<const T*>(ins[size_t(k)]->raw_data());
  }
  const int64_t n = out.numel();
  if (n == 0) return true;
  map_packed_kernel<T, N><<<blocks_for((n + kPack<T> - 1) / kPack<T>), kThreads, 0, stream()>>>(
      n, in, static_cast<T*>(out.raw_data()), f);
  MB_CUDA_LAUNCH_CHECK();
  return true;
}

// Device element types of every dtype.
template <class F> decltype(auto) visit_all(DType d, F&& f) {
  switch (d) {
    case DType::F64: return f(double{});
    case DType::I32: return f(int32_t{});
    case DType::I64: return f(int64_t{});
    case DType::U8: return f(uint8_t{});
    case DType::BF16: return f(__nv_bfloat16{});
    default: return f(float{});
  }
}

// Conversion between any two device element types (bf16 through float).
template <class To, class From> __device__ __forceinline__ To convert(From v) {
  if constexpr (std::is_same_v<To, From>) return v;
  else if constexpr (std::is_same_v<From, __nv_bfloat16>) return To(__bfloat162float(v));
  else if constexpr (std::is_same_v<To, __nv_bfloat16>) return __float2bfloat16(float(v));
  else return To(v);
}

}  // namespace mb::cuda
