// Softmax over the rows of a (rows, cols) matrix: y = exp(x - max) / sum(exp(x - max)).
// A memory-bound kernel: the best version reads x once for the statistics and once more to
// write y, with all threads of the machine busy and every load coalesced.
#include <string>

#include "lab.cuh"
#include "oracle.h"

namespace lab {
namespace {

constexpr unsigned kFull = 0xffffffffu;  // all 32 lanes of a warp take part in a shuffle

// v1: one thread per row, three passes over the row (max, sum, write).
// The simplest correct kernel. Slow for two reasons: with 4096 rows only 4096 threads run (an
// H100 holds 270k), and neighbouring threads read addresses `cols` floats apart, so each warp's
// load touches 32 different cache lines instead of one.
__global__ void softmax_v1(const float* x, float* y, int rows, int cols) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  const float* xr = x + size_t(row) * cols;
  float* yr = y + size_t(row) * cols;
  float m = -INFINITY;
  for (int c = 0; c < cols; ++c) m = fmaxf(m, xr[c]);
  float sum = 0;
  for (int c = 0; c < cols; ++c) sum += expf(xr[c] - m);
  for (int c = 0; c < cols; ++c) yr[c] = expf(xr[c] - m) / sum;
}

// v2: one block of 256 threads per row; threads stride through the row (thread t reads
// t, t + 256, ...), so a warp reads 32 consecutive floats: coalesced. The partial max and sum of
// each thread are combined by a tree reduction in shared memory (log2(256) = 8 steps, a
// __syncthreads() between steps).
constexpr int kV2Threads = 256;
__global__ void softmax_v2(const float* x, float* y, int cols) {
  __shared__ float buf[kV2Threads];
  const int tid = threadIdx.x;
  const float* xr = x + size_t(blockIdx.x) * cols;
  float* yr = y + size_t(blockIdx.x) * cols;

  float m = -INFINITY;
  for (int c = tid; c < cols; c += kV2Threads) m = fmaxf(m, xr[c]);
  buf[tid] = m;
  __syncthreads();
  for (int s = kV2Threads / 2; s > 0; s /= 2) {
    if (tid < s) buf[tid] = fmaxf(buf[tid], buf[tid + s]);
    __syncthreads();
  }
  m = buf[0];
  __syncthreads();  // everyone has read buf[0] before it is overwritten below

  float sum = 0;
  for (int c = tid; c < cols; c += kV2Threads) sum += expf(xr[c] - m);
  buf[tid] = sum;
  __syncthreads();
  for (int s = kV2Threads / 2; s > 0; s /= 2) {
    if (tid < s) buf[tid] += buf[tid + s];
    __syncthreads();
  }
  const float inv = 1.0f / buf[0];
  for (int c = tid; c < cols; c += kV2Threads) yr[c] = expf(xr[c] - m) * inv;
}

// v3: one warp per row, statistics in a single pass ("online softmax").
// Each lane keeps a running max m and a running sum s of exp(x - m); a new larger max rescales
// the sum: s = s * exp(m_old - m_new) + exp(x - m_new). Lanes then merge their (m, s) pairs with
// __shfl_xor_sync: registers are exchanged inside the warp, with no shared memory and no
// __syncthreads(). x is read twice instead of three times; the extra exp per element is free
// in a kernel that waits on memory.
__device__ void merge_online(float& m, float& s, float m_other, float s_other) {
  const float m_new = fmaxf(m, m_other);
  if (m_new == -INFINITY) return;  // both empty: avoid (-inf) - (-inf) = NaN
  s = s * expf(m - m_new) + s_other * expf(m_other - m_new);
  m = m_new;
}

__global__ void softmax_v3(const float* x, float* y, int rows, int cols) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;  // whole warps leave together: the shuffles below stay full
  const float* xr = x + size_t(row) * cols;
  float* yr = y + size_t(row) * cols;

  float m = -INFINITY, s = 0;
  for (int c = lane; c < cols; c += 32) merge_online(m, s, xr[c], 1.0f);
  for (int offset = 16; offset > 0; offset /= 2)
    merge_online(m, s, __shfl_xor_sync(kFull, m, offset), __shfl_xor_sync(kFull, s, offset));
  // after the butterfly every lane holds the same (m, s)
  const float inv = 1.0f / s;
  for (int c = lane; c < cols; c += 32) yr[c] = expf(xr[c] - m) * inv;
}

std::vector<Result> run(const std::vector<int>& versions, const Config& cfg) {
  const int rows = cfg.rows, cols = cfg.cols;
  const std::vector<float> x = random_vector(size_t(rows) * cols, cfg.seed, -5, 5);
  std::vector<float> want(x.size());
  oracle::softmax_rows(x.data(), want.data(), rows, cols);
  DeviceBuffer dx(x), dy(x.size());

  const Work work{2.0 * x.size() * sizeof(float), false};  // read x once, write y once
  std::vector<Result> results;
  for (int v : versions) {
    Result r = result_row(softmax_family(), v, std::to_string(rows) + " x " + std::to_string(cols), 1e-5);
    switch (v) {
      case 1:
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          softmax_v1<<<ceil_div(rows, 128), 128>>>(dx.get(), dy.get(), rows, cols);
        }));
        break;
      case 2:
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          softmax_v2<<<rows, kV2Threads>>>(dx.get(), dy.get(), cols);
        }));
        break;
      case 3:
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          softmax_v3<<<ceil_div(rows * 32LL, 256), 256>>>(dx.get(), dy.get(), rows, cols);
        }));
        break;
    }
  }
  return results;
}

}  // namespace

const Family& softmax_family() {
  static const Family f{
      "softmax",
      {
          {"thread per row, 3 passes", "the baseline: one thread per row; few threads and uncoalesced loads"},
          {"block per row, smem reduce", "256 threads per row, coalesced loads, tree reductions in shared memory"},
          {"warp per row, online, shfl", "a warp per row, warp shuffles, max and sum in one pass (online softmax)"},
      },
      run};
  return f;
}

}  // namespace lab
