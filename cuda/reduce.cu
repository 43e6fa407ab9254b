// CUDA reductions of the middle dim of a contiguous (A, R, N) tensor -> (A, N): sum (floats
// accumulate in double, integers in int64, as on the CPU), max, argmax (first index of the
// maximum; NaN wins). Deterministic: every output is reduced in a fixed order.
//   many outputs: one thread per output walks r (coalesced over n when N is large)
//   few outputs:  one block per output; threads split r, then a fixed shared-memory tree
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
  if (outputs >= 2048 || R < 64) {
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
