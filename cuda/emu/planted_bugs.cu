// The emulator's own tests: small kernels with a planted bug, each beside a control without it.
// The emulator must report the bug as a GPU would (an error the program sees, or poison in
// the result where a GPU gives garbage) and pass the control. Built only for the emulator
// (cuda/emu/CMakeLists.txt), one process per test case: a kernel's fault is sticky.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "cuda/mma.cuh"
#include "tensor/tensor.h"

namespace {

constexpr unsigned kFull = 0xffffffffu;

std::vector<float> download(const float* d, int n) {
  std::vector<float> h(size_t(n), 0.0f);
  cudaMemcpy(h.data(), d, size_t(n) * sizeof(float), cudaMemcpyDeviceToHost);
  return h;
}
// n zeros on the device, freed at the end of the test (the build with LeakSanitizer checks)
struct Floats {
  float* p = nullptr;
  explicit Floats(int n) {
    REQUIRE(cudaMalloc(&p, size_t(n) * sizeof(float)) == cudaSuccess);
    cudaMemset(p, 0, size_t(n) * sizeof(float));
  }
  ~Floats() { cudaFree(p); }
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;
  operator float*() const { return p; }
};

// out[t] = s[t] after thread t wrote s[t] (control) or with no thread writing (bug)
__global__ void read_shared(float* out, bool write) {
  __shared__ float s[64];
  if (write) s[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

// a warp-wide sum; lanes >= `reach` return before the shuffle
__global__ void warp_sum(float* out, int reach) {
  if (int(threadIdx.x) >= reach) return;
  float v = 1.0f;
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(kFull, v, o);
  out[threadIdx.x] = v;
}

// half the warp at a shuffle, the other half at __syncwarp (bug), or all at the shuffle
__global__ void mixed_collectives(float* out, bool mixed) {
  float v = float(threadIdx.x);
  if (mixed && threadIdx.x >= 16) __syncwarp();
  else v = __shfl_xor_sync(kFull, v, 1);
  out[threadIdx.x] = v;
}

// one thread of the block skips the barrier
__global__ void divergent_barrier(float* out, bool diverge) {
  if (!(diverge && threadIdx.x == 0)) __syncthreads();
  out[threadIdx.x] = 1.0f;
}

// 16 bytes into shared memory by cp.async, read back with (control) or without (bug) the wait
__global__ void copy_async(const float* in, float* out, bool wait) {
  __align__(16) __shared__ float s[4];
  if (threadIdx.x == 0) {
    mb::cuda::cp_async16(s, in, true);
    mb::cuda::cp_async_commit();
    if (wait) mb::cuda::cp_async_wait<0>();
    for (int i = 0; i < 4; ++i) out[i] = s[i];
  }
}

__global__ void __launch_bounds__(64) bounded(float* out) { out[threadIdx.x] = 1.0f; }

__global__ void dynamic_shared(float* out) {
  extern __shared__ __align__(16) unsigned char smem[];
  float* s = reinterpret_cast<float*>(smem);
  s[threadIdx.x] = 2.0f;
  out[threadIdx.x] = s[threadIdx.x];
}

// out[t] = what thread t + 1 wrote to shared memory, read after a barrier (control) or with
// none between the write and the read (a race)
__global__ void neighbour(float* out, bool barrier) {
  __shared__ float s[64];
  s[threadIdx.x] = float(threadIdx.x);
  if (barrier) __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x + 1) % 64];
}

// y[i] = 1 for i < n, and with `off_by_one` for i == n too: one element past the end
__global__ void fill_ones(float* y, int n, bool off_by_one) {
  const int i = int(threadIdx.x);
  if (off_by_one ? i <= n : i < n) y[i] = 1.0f;
}

}  // namespace

TEST_CASE("planted: shared memory that no thread wrote reads as poison (NaN)") {
  const Floats out(64);
  read_shared<<<2, 64>>>(out.p, true);
  for (float v : download(out, 64)) CHECK(std::isfinite(v));
  read_shared<<<2, 64>>>(out.p, false);
  for (float v : download(out, 64)) CHECK(std::isnan(v));
  CHECK(cudaDeviceSynchronize() == cudaSuccess);  // (poison is garbage, not a fault)
}

TEST_CASE("planted: a full-mask shuffle that half the warp never reaches is a fault the program sees") {
  const Floats out(32);
  warp_sum<<<1, 32>>>(out.p, 32);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(download(out, 32)[0] == 32.0f);
  warp_sum<<<1, 32>>>(out.p, 16);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);  // sticky
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
}

TEST_CASE("planted: lanes at different warp collectives are a fault") {
  const Floats out(32);
  mixed_collectives<<<1, 32>>>(out.p, false);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  mixed_collectives<<<1, 32>>>(out.p, true);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
}

TEST_CASE("planted: a __syncthreads one thread skips is a fault, and the program goes on") {
  const Floats out(64);
  divergent_barrier<<<1, 64>>>(out.p, false);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  divergent_barrier<<<1, 64>>>(out.p, true);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
}

TEST_CASE("planted: cp.async lands at its wait: a read before the wait sees poison") {
  const Floats in(4);
  const Floats out(4);
  const std::vector<float> h = {1, 2, 3, 4};
  cudaMemcpy(in, h.data(), sizeof(float) * 4, cudaMemcpyHostToDevice);
  copy_async<<<1, 32>>>(in.p, out.p, true);
  CHECK(download(out, 4) == h);
  copy_async<<<1, 32>>>(in.p, out.p, false);
  for (float v : download(out, 4)) CHECK(std::isnan(v));
}

TEST_CASE("planted: a block past the kernel's __launch_bounds__ is refused and does not run") {
  const Floats out(128);
  bounded<<<1, 64>>>(out.p);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(download(out, 128)[63] == 1.0f);
  cudaMemset(out, 0, 128 * sizeof(float));
  bounded<<<1, 128>>>(out.p);
  CHECK(cudaGetLastError() == cudaErrorLaunchOutOfResources);
  CHECK(download(out, 128)[0] == 0.0f);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);  // a refused launch is not sticky
}

TEST_CASE("planted: dynamic shared memory past 48 KB needs cudaFuncSetAttribute") {
  const Floats out(32);
  const size_t bytes = 64 * 1024;
  dynamic_shared<<<1, 32, bytes>>>(out.p);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  REQUIRE(cudaFuncSetAttribute(dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)) == cudaSuccess);
  dynamic_shared<<<1, 32, bytes>>>(out.p);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(download(out, 32)[31] == 2.0f);
}

TEST_CASE("planted: bad launch configurations are refused by cudaGetLastError") {
  const Floats out(32);
  fill_ones<<<1, 2048>>>(out.p, 32, false);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  fill_ones<<<1, 32>>>(out.p, 32, false);
  CHECK(cudaGetLastError() == cudaSuccess);
}

// In the racecheck build (ThreadSanitizer), the control must run clean; the race is below.
TEST_CASE("planted: a neighbour's shared write read after a barrier") {
  const Floats out(64);
  neighbour<<<2, 64>>>(out.p, true);
  CHECK(download(out, 64)[0] == 1.0f);
  CHECK(download(out, 64)[63] == 0.0f);
}

#if defined(__SANITIZE_THREAD__)
TEST_CASE("racecheck: a neighbour's shared write read with no barrier between") {
  const Floats out(64);
  neighbour<<<1, 64>>>(out.p, false);
}
#endif

// Past the end of memory: AddressSanitizer reports these (the ASan build of the emulator, which
// scripts/test_cuda_emu.sh runs); ctest expects its report. Controls first: they must pass.
#if defined(__SANITIZE_ADDRESS__)
TEST_CASE("memcheck: one past a cudaMalloc'd buffer") {
  const Floats y(32);
  fill_ones<<<1, 64>>>(y.p, 32, false);
  CHECK(download(y, 32)[31] == 1.0f);
  fill_ones<<<1, 64>>>(y.p, 32, true);
}

TEST_CASE("memcheck: one past a tensor inside its allocator's bin") {
  const mb::Tensor t = mb::Tensor::empty({5}, mb::DType::F32, mb::Device::CUDA);  // a 512-byte bin
  float* y = static_cast<float*>(t.raw_data());
  fill_ones<<<1, 32>>>(y, 5, false);
  CHECK(download(y, 5)[4] == 1.0f);
  fill_ones<<<1, 32>>>(y, 5, true);
}
#endif
