// The CUDA backend's entry point. This is the switch and a compiling target; the kernels
// (every entry of tensor/backend.h's table) arrive with the CUDA backend issue.
#include <cuda_runtime.h>

#include <vector>

#include "cuda/runtime.h"

namespace mb::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;  // no driver or no device: no GPU
  return n;
}

namespace {
__global__ void iota_kernel(float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = float(i);
}
}  // namespace

std::vector<float> iota_on_device(int n) {
  float* d = nullptr;
  std::vector<float> h(size_t(n), -1.0f);
  if (cudaMalloc(&d, sizeof(float) * size_t(n)) != cudaSuccess) return {};
  iota_kernel<<<(n + 255) / 256, 256>>>(d, n);
  const bool ok = cudaMemcpy(h.data(), d, sizeof(float) * size_t(n), cudaMemcpyDeviceToHost) == cudaSuccess;
  cudaFree(d);
  return ok ? h : std::vector<float>{};
}

}  // namespace mb::cuda
