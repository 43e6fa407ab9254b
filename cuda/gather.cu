// CUDA gathers and their scatters: embedding rows, and the unfold/fold of a causal 1-D
// convolution (tensor/cpu/embedding.cpp and conv.cpp are the CPU twins).
#include <vector>

#include "autograd/ops.h"
#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

// out (N, D) = weight[idx[n]]
template <class T> __global__ void embedding_kernel(const T* w, const void* idx, DType dt, int64_t N, int64_t D, T* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < N * D; i += int64_t(blockDim.x) * gridDim.x)
    out[i] = w[index_at(idx, dt, i / D) * D + i % D];
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
  const int64_t N = idx.numel(), D = weight.shape()[1];
  visit_all(weight.dtype(), [&](auto z) {
    using T = decltype(z);
    embedding_kernel<T><<<blocks_for(N * D), kThreads, 0, stream()>>>(ptr<T>(weight), idx.raw_data(), idx.dtype(), N,
                                                                       D, ptr<T>(out));
    MB_CUDA_LAUNCH_CHECK();
  });
}

// The rows of each vocabulary entry are grouped on the host (a counting sort of the indices,
// stable in n), then summed on the device in that order.
void embedding_backward(const Tensor& idx, const Tensor& gy, const Tensor& gweight) {
  const int64_t N = idx.numel(), V = gweight.shape()[0], D = gweight.shape()[1];
  const Tensor host_idx = to(to(idx.detach(), DType::I64), Device::CPU);
  const int64_t* ip = host_idx.data<int64_t>();
  std::vector<int64_t> start(size_t(V) + 1, 0), rows(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) ++start[size_t(ip[n]) + 1];
  for (int64_t v = 0; v < V; ++v) start[size_t(v) + 1] += start[size_t(v)];
  std::vector<int64_t> fill_at(start.begin(), start.end() - 1);
  for (int64_t n = 0; n < N; ++n) rows[size_t(fill_at[size_t(ip[n])]++)] = n;
  const Tensor d_start = to(Tensor::from_vector(start, {V + 1}), Device::CUDA);
  const Tensor d_rows = to(Tensor::from_vector(rows, {N}), Device::CUDA);
  visit_floating(gweight.dtype(), [&](auto z) {
    using T = decltype(z);
    embedding_backward_kernel<T><<<blocks_for(V * D), kThreads, 0, stream()>>>(
        ptr<int64_t>(d_start), ptr<int64_t>(d_rows), ptr<T>(gy), V, D, ptr<T>(gweight));
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
