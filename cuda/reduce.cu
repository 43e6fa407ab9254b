// CUDA reductions of the middle dim of a contiguous (A, R, N) tensor -> (A, N): sum (floats
// accumulate in double, integers in int64, as on the CPU), max, argmax (first index of the
// maximum; NaN wins). Deterministic: every output is reduced in a fixed order.
//   many outputs: one thread per output walks r (coalesced over n when N is large)
//   many outputs, long sums (a bias gradient: ≥ 2048 columns, 8k-64k rows): r split into
//                 fixed slices, one thread per (slice, output), then a pass over the slices
//   few outputs:  one block per output; threads split r, then a fixed shared-memory tree
#include <algorithm>
#include <cmath>

#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

template <class T> using Sum = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// A running max / argmax: value (as double) and index.
struct Best {
  double v;
  int64_t i;
};
__device__ __forceinline__ bool is_nan(double v) { return v != v; }
// b replaces a when it comes first among equals, or is larger, or is the first NaN
__device__ __forceinline__ Best better(Best a, Best b) {
  if (is_nan(a.v) || is_nan(b.v)) {
    if (is_nan(a.v) && is_nan(b.v)) return a.i <= b.i ? a : b;
    return is_nan(a.v) ? a : b;
  }
  if (b.v > a.v || (b.v == a.v && b.i < a.i)) return b;
  return a;
}

template <class T> __device__ double as_double(const T* p) { return double(load(p)); }

template <class T> __device__ void write(ReduceOp op, T* out, int64_t* idx_out, int64_t o, double s, Best b) {
  if (op == ReduceOp::sum) store(out + o, acc_t<T>(s));
  else if (op == ReduceOp::max) store(out + o, acc_t<T>(b.v));
  else idx_out[o] = b.i;
}

template <class T>
__global__ void reduce_thread_per_output(ReduceOp op, const T* x, int64_t A, int64_t R, int64_t N, T* out,
                                         int64_t* idx_out) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < A * N; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t a = o / N, n = o % N;
    const T* p = x + a * R * N + n;
    Sum<T> s = 0;
    Best b{R > 0 ? as_double(p) : 0.0, 0};
    for (int64_t r = 0; r < R; ++r) {
      if (op == ReduceOp::sum) s += Sum<T>(load(p + r * N));
      else b = better(b, Best{as_double(p + r * N), r});
    }
    write(op, out, idx_out, o, double(s), b);
  }
}

// part[s · AN + o] = Σ of output o over rows [s·L, (s+1)·L) ∩ [0, R), rows in order
template <class T>
__global__ void sum_slices(const T* x, int64_t A, int64_t R, int64_t N, int64_t S, int64_t L, Sum<T>* part) {
  const int64_t AN = A * N;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < S * AN; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t sl = i / AN, o = i % AN, a = o / N, n = o % N;
    const T* p = x + a * R * N + n;
    const int64_t end = (sl + 1) * L < R ? (sl + 1) * L : R;
    Sum<T> s = 0;
    for (int64_t r = sl * L; r < end; ++r) s += Sum<T>(load(p + r * N));
    part[i] = s;
  }
}
// out[o] = Σ over the S slices of part, in slice order
template <class T> __global__ void sum_of_slices(const Sum<T>* part, int64_t AN, int64_t S, T* out) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < AN; o += int64_t(blockDim.x) * gridDim.x) {
    Sum<T> s = 0;
    for (int64_t sl = 0; sl < S; ++sl) s += part[sl * AN + o];
    store(out + o, acc_t<T>(s));
  }
}
constexpr int64_t kSliceRows = 256, kMaxSlices = 64;

constexpr int kReduceThreads = 256;

template <class T>
__global__ void reduce_block_per_output(ReduceOp op, const T* x, int64_t R, int64_t N, T* out, int64_t* idx_out) {
  const int64_t o = blockIdx.x, a = o / N, n = o % N;
  const T* p = x + a * R * N + n;
  __shared__ Sum<T> sums[kReduceThreads];
  __shared__ Best bests[kReduceThreads];
  Sum<T> s = 0;
  Best b{R > 0 ? as_double(p) : 0.0, 0};
  for (int64_t r = threadIdx.x; r < R; r += blockDim.x) {
    if (op == ReduceOp::sum) s += Sum<T>(load(p + r * N));
    else b = better(b, Best{as_double(p + r * N), r});
  }
  sums[threadIdx.x] = s;
  bests[threadIdx.x] = b;
  __syncthreads();
  for (int w = kReduceThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) {
      sums[threadIdx.x] += sums[threadIdx.x + w];
      bests[threadIdx.x] = better(bests[threadIdx.x], bests[threadIdx.x + w]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) write(op, out, idx_out, o, double(sums[0]), bests[0]);
}

template <class T> void reduce_t(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t N, const Tensor& out) {
  const T* xp = ptr<T>(x);
  T* op_ = op == ReduceOp::argmax ? nullptr : ptr<T>(out);
  int64_t* ip = op == ReduceOp::argmax ? ptr<int64_t>(out) : nullptr;
  const int64_t outputs = A * N;
  if (outputs == 0) return;
  if (op == ReduceOp::sum && outputs >= 2048 && R >= 4 * kSliceRows) {
    const int64_t S = std::min<int64_t>(kMaxSlices, (R + kSliceRows - 1) / kSliceRows), L = (R + S - 1) / S;
    const Tensor part = Tensor::empty({S * outputs}, std::is_integral_v<T> ? DType::I64 : DType::F64, Device::CUDA);
    sum_slices<T><<<blocks_for(S * outputs), kThreads, 0, stream()>>>(xp, A, R, N, S, L, ptr<Sum<T>>(part));
    MB_CUDA_LAUNCH_CHECK();
    sum_of_slices<T><<<blocks_for(outputs), kThreads, 0, stream()>>>(ptr<Sum<T>>(part), outputs, S, op_);
  } else if (outputs >= 2048 || R < 64) {
    reduce_thread_per_output<T><<<blocks_for(outputs), kThreads, 0, stream()>>>(op, xp, A, R, N, op_, ip);
  } else {
    reduce_block_per_output<T><<<unsigned(outputs), kReduceThreads, 0, stream()>>>(op, xp, R, N, op_, ip);
  }
  MB_CUDA_LAUNCH_CHECK();
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t N, const Tensor& out) {
  MB_CHECK(R > 0 || op == ReduceOp::sum, "reduce: max/argmax over an empty dim");
  visit_all(x.dtype(), [&](auto z) { reduce_t<decltype(z)>(op, x, A, R, N, out); });
}

}  // namespace mb::cuda
