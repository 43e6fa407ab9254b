// cuda::mma_m16n8k16 (runtime.h): one mma.sync through the fragment layout cuda/mma.cuh
// documents, so that a test can hold the layout, the emulator's and the hardware's together.
#include "cuda/mma.cuh"

#include "cuda/common.cuh"
#include "cuda/runtime.h"

namespace mb::cuda {
namespace {

// a (16 x 16), b (16 x 8) bf16 bits, d (16 x 8) f32, all row-major; one warp.
__global__ void mma_product_kernel(const uint16_t* a, const uint16_t* b, float* d) {
  const int lane = int(threadIdx.x), g = lane / 4, t = lane % 4;
  auto pair = [](const uint16_t* p, int stride) { return uint32_t(p[0]) | uint32_t(p[stride]) << 16; };
  const uint32_t af[4] = {pair(a + g * 16 + 2 * t, 1), pair(a + (g + 8) * 16 + 2 * t, 1), pair(a + g * 16 + 2 * t + 8, 1),
                          pair(a + (g + 8) * 16 + 2 * t + 8, 1)};
  const uint32_t bf[2] = {pair(b + 2 * t * 8 + g, 8), pair(b + (2 * t + 8) * 8 + g, 8)};
  float acc[4] = {0, 0, 0, 0};
  mma_16816(acc, af, bf);
  d[g * 8 + 2 * t] = acc[0];
  d[g * 8 + 2 * t + 1] = acc[1];
  d[(g + 8) * 8 + 2 * t] = acc[2];
  d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

}  // namespace

void mma_m16n8k16(const uint16_t* a, const uint16_t* b, float* d) {
  int dev = 0;
  MB_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p;
  MB_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  MB_CHECK(p.major >= 8, "mma_m16n8k16: bf16 tensor cores need compute capability 8.0, the device has ", p.major, ".",
           p.minor);
  const Tensor da = Tensor::empty({16, 16}, DType::BF16, Device::CUDA), db = Tensor::empty({16, 8}, DType::BF16, Device::CUDA),
               dd = Tensor::empty({16, 8}, DType::F32, Device::CUDA);
  MB_CUDA_CHECK(cudaMemcpyAsync(da.raw_data(), a, 256 * sizeof(uint16_t), cudaMemcpyHostToDevice, stream()));
  MB_CUDA_CHECK(cudaMemcpyAsync(db.raw_data(), b, 128 * sizeof(uint16_t), cudaMemcpyHostToDevice, stream()));
  mma_product_kernel<<<1, 32, 0, stream()>>>(ptr<uint16_t>(da), ptr<uint16_t>(db), ptr<float>(dd));
  MB_CUDA_LAUNCH_CHECK();
  MB_CUDA_CHECK(cudaMemcpyAsync(d, dd.raw_data(), 128 * sizeof(float), cudaMemcpyDeviceToHost, stream()));
  MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace mb::cuda
