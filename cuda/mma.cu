// cuda::mma_m16n8k16 (runtime.h): one mma.sync through the fragment layout cuda/mma.cuh
// documents, B given by hand and by ldmatrix.trans, so that a test can hold the layouts, the
// emulator's and the hardware's, together.
#include "cuda/mma.cuh"

#include "cuda/common.cuh"
#include "cuda/runtime.h"

namespace mb::cuda {
namespace {

// a (16 x 16), b (16 x 8) bf16 bits, d (2, 16 x 8) f32, all row-major; one warp. d[0] with B's
// fragments gathered by hand from the documented layout, d[1] with them read by ldmatrix.trans
// from b's rows in shared memory (load_b).
__global__ void mma_product_kernel(const uint16_t* a, const uint16_t* b, float* d) {
  __align__(16) __shared__ __nv_bfloat16 bs[16 * 8];
  const int lane = int(threadIdx.x), g = lane / 4, t = lane % 4;
  auto pair = [](const uint16_t* p, int stride) { return uint32_t(p[0]) | uint32_t(p[stride]) << 16; };
  const uint32_t af[4] = {pair(a + g * 16 + 2 * t, 1), pair(a + (g + 8) * 16 + 2 * t, 1), pair(a + g * 16 + 2 * t + 8, 1),
                          pair(a + (g + 8) * 16 + 2 * t + 8, 1)};
  uint32_t bf[2][2] = {{pair(b + 2 * t * 8 + g, 8), pair(b + (2 * t + 8) * 8 + g, 8)}, {}};
  for (int i = lane; i < 16 * 8; i += 32) bs[i] = __ushort_as_bfloat16(b[i]);
  __syncwarp();
  load_b(bf[1], bs, 8, 0, 0, lane);
  for (int v = 0; v < 2; ++v) {
    float acc[4] = {0, 0, 0, 0};
    mma_16816(acc, af, bf[v]);
    float* dv = d + v * 128;
    dv[g * 8 + 2 * t] = acc[0];
    dv[g * 8 + 2 * t + 1] = acc[1];
    dv[(g + 8) * 8 + 2 * t] = acc[2];
    dv[(g + 8) * 8 + 2 * t + 1] = acc[3];
  }
}

}  // namespace

void mma_m16n8k16(const uint16_t* a, const uint16_t* b, float* d) {
  MB_CHECK(compute_capability_major() >= 8, "mma_m16n8k16: bf16 tensor cores need compute capability 8.0, the device "
           "has ", compute_capability_major(), ".x");
  const Tensor da = Tensor::empty({16, 16}, DType::BF16, Device::CUDA), db = Tensor::empty({16, 8}, DType::BF16, Device::CUDA),
               dd = Tensor::empty({2, 16, 8}, DType::F32, Device::CUDA);
  MB_CUDA_CHECK(cudaMemcpyAsync(da.raw_data(), a, 256 * sizeof(uint16_t), cudaMemcpyHostToDevice, stream()));
  MB_CUDA_CHECK(cudaMemcpyAsync(db.raw_data(), b, 128 * sizeof(uint16_t), cudaMemcpyHostToDevice, stream()));
  mma_product_kernel<<<1, 32, 0, stream()>>>(ptr<uint16_t>(da), ptr<uint16_t>(db), ptr<float>(dd));
  MB_CUDA_LAUNCH_CHECK();
  MB_CUDA_CHECK(cudaMemcpyAsync(d, dd.raw_data(), 256 * sizeof(float), cudaMemcpyDeviceToHost, stream()));
  MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace mb::cuda
