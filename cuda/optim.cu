// CUDA optimizer kernels: the squared norm of a gradient (for clipping) and the fused AdamW
// update, the same arithmetic as tensor/cpu/optim.cpp.
#include <vector>

#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

constexpr int kParts = 256, kPartThreads = 256;

// partial[b] = Σ x² over the elements block b visits, in a fixed order (deterministic)
template <class T> __global__ void sum_squares_kernel(const T* x, int64_t n, double* partial) {
  __shared__ double s[kPartThreads];
  double acc = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const double v = double(load(x + i));
    acc += v * v;
  }
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kPartThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

template <class T> double sum_squares_t(const Tensor& x) {
  const Tensor partial = Tensor::empty({kParts}, DType::F64, Device::CUDA);
  sum_squares_kernel<T><<<kParts, kPartThreads, 0, stream()>>>(ptr<T>(x), x.numel(), ptr<double>(partial));
  MB_CUDA_LAUNCH_CHECK();
  std::vector<double> h(kParts);
  MB_CUDA_CHECK(cudaMemcpyAsync(h.data(), partial.raw_data(), sizeof(double) * kParts, cudaMemcpyDeviceToHost, stream()));
  MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
  double total = 0;
  for (double v : h) total += v;
  return total;
}

template <class T>
__global__ void adamw_kernel(T* p, const T* g, T* m, T* v, int64_t n, AdamWStep s) {
  using A = acc_t<T>;
  const A decay = A(1 - s.lr * s.weight_decay), scale = A(s.grad_scale), w1 = A(1 - s.beta1), b2 = A(s.beta2),
          w2 = A(1 - s.beta2), bc2s = A(s.bias_correction2_sqrt), eps = A(s.eps), step = A(s.lr / s.bias_correction1);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const A gi = s.grad_scale != 1 ? load(g + i) * scale : load(g + i);
    const A pi = s.weight_decay != 0 ? load(p + i) * decay : load(p + i);
    const A mi = load(m + i) + w1 * (gi - load(m + i));  // lerp towards g, as PyTorch
    const A vi = b2 * load(v + i) + w2 * gi * gi;
    store(m + i, mi);
    store(v + i, vi);
    store(p + i, pi - step * (mi / (sqrt_of(vi) / bc2s + eps)));
  }
}

}  // namespace

double sum_squares(const Tensor& x) {
  return visit_floating(x.dtype(), [&](auto z) { return sum_squares_t<decltype(z)>(x); });
}

void adamw(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamWStep& s) {
  visit_floating(p.dtype(), [&](auto z) {
    using T = decltype(z);
    adamw_kernel<T><<<blocks_for(p.numel()), kThreads, 0, stream()>>>(ptr<T>(p), ptr<T>(g), ptr<T>(m), ptr<T>(v),
                                                                       p.numel(), s);
    MB_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace mb::cuda
