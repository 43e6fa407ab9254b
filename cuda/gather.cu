// CUDA gathers and their scatters: embedding rows, and the unfold/fold of a causal 1-D
// convolution (tensor/cpu/embedding.cpp and conv.cpp are the CPU twins).
#include <algorithm>

#include "cuda/indices.cuh"
#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

// out (N, D) = weight[idx[n]] (a zero row for an index out of range, which is recorded)
template <class T> __global__ void embedding_kernel(const T* w, Indices idx, int64_t N, int64_t D, T* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < N * D; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t v = checked_index(idx, i / D);
    out[i] = v >= 0 ? w[v * D + i % D] : T(0);
  }
}

// The rows of each vocabulary entry, grouped on the device by a counting sort of the indices
// that is stable in n, in four small kernels (no copy to the host, no atomics). The indices are
// cut into C chunks; counts is a (C, V) matrix.
__device__ __forceinline__ int64_t chunk_end(int64_t c, int64_t chunk, int64_t N) {
  return (c + 1) * chunk < N ? (c + 1) * chunk : N;
}
// 1. counts[c, v] = how often v occurs in chunk c (one thread per chunk, walking it in order;
// an index out of range counts nowhere)
__global__ void count_chunks(Indices idx, int64_t N, int64_t V, int64_t chunk, int64_t C, int64_t* counts) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += int64_t(blockDim.x) * gridDim.x)
    for (int64_t n = c * chunk; n < chunk_end(c, chunk, N); ++n) {
      const int64_t v = index_in_range(idx, n);
      if (v >= 0) ++counts[c * V + v];
    }
}
// 2. per v: counts[c, v] becomes the rows of v in chunks before c; start[v + 1] = v's total
__global__ void scan_chunks(int64_t* counts, int64_t C, int64_t V, int64_t* start) {
  for (int64_t v = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; v < V; v += int64_t(blockDim.x) * gridDim.x) {
    int64_t run = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = counts[c * V + v];
      counts[c * V + v] = run;
      run += k;
    }
    start[v + 1] = run;
  }
}
// 3. start[v] = the rows of every u < v (one thread: V steps)
__global__ void scan_vocab(int64_t V, int64_t* start) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  start[0] = 0;
  for (int64_t v = 0; v < V; ++v) start[v + 1] += start[v];
}
// 4. rows[start[v] .. start[v + 1]) = the n with idx[n] = v, increasing: each chunk writes its
// own, from its offset (counts[c, v] is chunk c's cursor)
__global__ void place_rows(Indices idx, int64_t N, int64_t V, int64_t chunk, int64_t C, int64_t* counts,
                           const int64_t* start, int64_t* rows) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += int64_t(blockDim.x) * gridDim.x)
    for (int64_t n = c * chunk; n < chunk_end(c, chunk, N); ++n) {
      const int64_t v = index_in_range(idx, n);
      if (v >= 0) rows[start[v] + counts[c * V + v]++] = n;
    }
}

// gweight[v, d] += Σ gy[n, d] over the n with idx[n] = v, in increasing n: rows[start[v] ..
// start[v + 1]) lists those n. One thread per (v, d): no atomics, the same sum every run.
template <class T>
__global__ void embedding_backward_kernel(const int64_t* start, const int64_t* rows, const T* gy, int64_t V,
                                          int64_t D, T* gw) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < V * D; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t v = i / D, d = i % D;
    acc_t<T> acc = load(gw + i);
    for (int64_t j = start[v]; j < start[v + 1]; ++j) acc += load(gy + rows[j] * D + d);
    store(gw + i, acc);
  }
}

// cols (B, T, C·K)[b, t, c·K + k] = x (B, T, C)[b, t − (K−1) + k, c], 0 before the start
template <class T> __global__ void unfold_kernel(const T* x, int64_t B, int64_t T_, int64_t C, int64_t K, T* cols) {
  const int64_t n = B * T_ * C * K;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t k = i % K, c = (i / K) % C, bt = i / (C * K), t = bt % T_;
    const int64_t src = t - (K - 1) + k;
    cols[i] = src >= 0 ? x[(bt - t + src) * C + c] : T(0);
  }
}

// gx[b, s, c] = Σ_k gcols[b, s + (K−1) − k, c·K + k] (the terms that exist), one thread each
template <class T> __global__ void fold_kernel(const T* g, int64_t B, int64_t T_, int64_t C, int64_t K, T* gx) {
  const int64_t n = B * T_ * C;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t c = i % C, bs = i / C, s = bs % T_;
    acc_t<T> acc = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t t = s + (K - 1) - k;
      if (t < T_) acc += load(g + (bs - s + t) * C * K + c * K + k);
    }
    store(gx + i, acc);
  }
}

}  // namespace

void embedding(const Tensor& weight, const Tensor& idx, const Tensor& out) {
  const int64_t N = idx.numel(), V = weight.shape()[0], D = weight.shape()[1];
  visit_all(weight.dtype(), [&](auto z) {
    using T = decltype(z);
    embedding_kernel<T><<<blocks_for(N * D), kThreads, 0, stream()>>>(ptr<T>(weight), indices(idx, V, kEmbeddingIndex),
                                                                       N, D, ptr<T>(out));
    MB_CUDA_LAUNCH_CHECK();
  });
}

void embedding_backward(const Tensor& idx, const Tensor& gy, const Tensor& gweight) {
  const int64_t N = idx.numel(), V = gweight.shape()[0], D = gweight.shape()[1];
  // chunks of at least 64 indices, and few enough that the (C, V) counts stay under 4M entries
  const int64_t C = std::max<int64_t>(1, std::min((N + 63) / 64, (int64_t(1) << 22) / std::max<int64_t>(V, 1)));
  const int64_t chunk = (N + C - 1) / C;
  const Tensor counts = Tensor::empty({C * V}, DType::I64, Device::CUDA);
  const Tensor start = Tensor::empty({V + 1}, DType::I64, Device::CUDA), rows = Tensor::empty({std::max<int64_t>(N, 1)}, DType::I64, Device::CUDA);
  MB_CUDA_CHECK(cudaMemsetAsync(counts.raw_data(), 0, size_t(C * V) * sizeof(int64_t), stream()));
  int64_t* cp = ptr<int64_t>(counts);
  int64_t* sp = ptr<int64_t>(start);
  const Indices ix = indices(idx, V, kEmbeddingIndex);
  count_chunks<<<blocks_for(C), kThreads, 0, stream()>>>(ix, N, V, chunk, C, cp);
  MB_CUDA_LAUNCH_CHECK();
  scan_chunks<<<blocks_for(V), kThreads, 0, stream()>>>(cp, C, V, sp);
  MB_CUDA_LAUNCH_CHECK();
  scan_vocab<<<1, 1, 0, stream()>>>(V, sp);
  MB_CUDA_LAUNCH_CHECK();
  place_rows<<<blocks_for(C), kThreads, 0, stream()>>>(ix, N, V, chunk, C, cp, sp, ptr<int64_t>(rows));
  MB_CUDA_LAUNCH_CHECK();
  visit_floating(gweight.dtype(), [&](auto z) {
    using T = decltype(z);
    embedding_backward_kernel<T><<<blocks_for(V * D), kThreads, 0, stream()>>>(sp, ptr<int64_t>(rows), ptr<T>(gy), V,
                                                                                D, ptr<T>(gweight));
    MB_CUDA_LAUNCH_CHECK();
  });
}

void unfold_causal(const Tensor& x, int64_t K, const Tensor& cols) {
  const int64_t B = x.shape()[0], T_ = x.shape()[1], C = x.shape()[2];
  visit_floating(x.dtype(), [&](auto z) {
    using T = decltype(z);
    unfold_kernel<T><<<blocks_for(B * T_ * C * K), kThreads, 0, stream()>>>(ptr<T>(x), B, T_, C, K, ptr<T>(cols));
    MB_CUDA_LAUNCH_CHECK();
  });
}

void fold_causal(const Tensor& gcols, int64_t K, const Tensor& gx) {
  const int64_t B = gx.shape()[0], T_ = gx.shape()[1], C = gx.shape()[2];
  visit_floating(gx.dtype(), [&](auto z) {
    using T = decltype(z);
    fold_kernel<T><<<blocks_for(B * T_ * C), kThreads, 0, stream()>>>(ptr<T>(gcols), B, T_, C, K, ptr<T>(gx));
    MB_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace mb::cuda
