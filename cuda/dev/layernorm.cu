// Layer norm forward over the rows of a (rows, cols) matrix:
// y = (x - mean) / sqrt(var + eps) * w + b, with the biased variance of the row.
// Memory-bound like softmax; the lessons are the same plus vector loads and Welford's method.
#include <string>

#include "lab.cuh"
#include "oracle.h"

namespace lab {
namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr float kEps = 1e-5f;

// v1: one thread per row, three passes (mean, variance, write).
// As softmax v1: too few threads, and a warp's loads are `cols` floats apart (uncoalesced).
__global__ void layernorm_v1(const float* x, const float* w, const float* b, float* y, int rows, int cols) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  const float* xr = x + size_t(row) * cols;
  float* yr = y + size_t(row) * cols;
  float mean = 0;
  for (int c = 0; c < cols; ++c) mean += xr[c];
  mean /= cols;
  float var = 0;
  for (int c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
  const float rstd = rsqrtf(var / cols + kEps);
  for (int c = 0; c < cols; ++c) yr[c] = (xr[c] - mean) * rstd * w[c] + b[c];
}

__device__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFull, v, offset);
  return v;  // every lane holds the total
}

// v2: one warp per row. Lanes stride through the row, so loads are coalesced, and the sums are
// combined with warp shuffles (no shared memory, no block barrier). Still two passes for the
// statistics (the mean first, then the squared deviations from it: stable, but x is read three
// times in all; the second and third reads mostly hit the cache).
__global__ void layernorm_v2(const float* x, const float* w, const float* b, float* y, int rows, int cols) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + size_t(row) * cols;
  float* yr = y + size_t(row) * cols;
  float sum = 0;
  for (int c = lane; c < cols; c += 32) sum += xr[c];
  const float mean = warp_sum(sum) / cols;
  float sq = 0;
  for (int c = lane; c < cols; c += 32) sq += (xr[c] - mean) * (xr[c] - mean);
  const float rstd = rsqrtf(warp_sum(sq) / cols + kEps);
  for (int c = lane; c < cols; c += 32) yr[c] = (xr[c] - mean) * rstd * w[c] + b[c];
}

// Welford's running (count, mean, M2 = sum of squared deviations): one pass, and stable,
// unlike the one-pass E[x^2] - E[x]^2, which loses everything when the mean is large.
struct Welford {
  float n = 0, mean = 0, m2 = 0;
  __device__ void add(float x) {
    n += 1;
    const float d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  // Chan et al.'s formula for combining two partial results.
  __device__ void merge(float n_b, float mean_b, float m2_b) {
    if (n_b == 0) return;
    const float n_ab = n + n_b, d = mean_b - mean;
    mean += d * (n_b / n_ab);
    m2 += m2_b + d * d * (n * n_b / n_ab);
    n = n_ab;
  }
};

// v3: one warp per row, float4 loads, Welford statistics in one pass.
// A float4 load moves 16 bytes per instruction instead of 4: a quarter of the load
// instructions for the same bytes (needs cols % 4 == 0, so each row starts 16-byte aligned).
// Welford reads x once for mean and variance together; the lanes' partial results are merged
// down to lane 0 with __shfl_down_sync and broadcast back, so every lane uses the same values.
__global__ void layernorm_v3(const float* x, const float* w, const float* b, float* y, int rows, int cols) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const int n4 = cols / 4;
  const float4* xr = reinterpret_cast<const float4*>(x + size_t(row) * cols);
  float4* yr = reinterpret_cast<float4*>(y + size_t(row) * cols);
  const float4* w4 = reinterpret_cast<const float4*>(w);
  const float4* b4 = reinterpret_cast<const float4*>(b);

  Welford acc;
  for (int i = lane; i < n4; i += 32) {
    const float4 v = xr[i];
    acc.add(v.x);
    acc.add(v.y);
    acc.add(v.z);
    acc.add(v.w);
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const float n_b = __shfl_down_sync(kFull, acc.n, offset);
    const float mean_b = __shfl_down_sync(kFull, acc.mean, offset);
    const float m2_b = __shfl_down_sync(kFull, acc.m2, offset);
    acc.merge(n_b, mean_b, m2_b);
  }
  const float mean = __shfl_sync(kFull, acc.mean, 0);
  const float rstd = rsqrtf(__shfl_sync(kFull, acc.m2, 0) / cols + kEps);

  for (int i = lane; i < n4; i += 32) {
    const float4 v = xr[i], wi = w4[i], bi = b4[i];
    yr[i] = make_float4((v.x - mean) * rstd * wi.x + bi.x, (v.y - mean) * rstd * wi.y + bi.y,
                        (v.z - mean) * rstd * wi.z + bi.z, (v.w - mean) * rstd * wi.w + bi.w);
  }
}

std::vector<Result> run(const std::vector<int>& versions, const Config& cfg) {
  const int rows = cfg.rows, cols = cfg.cols;
  // an offset mean, so that a cancelling one-pass variance would show
  const std::vector<float> x = random_vector(size_t(rows) * cols, cfg.seed, 2, 6);
  const std::vector<float> w = random_vector(cols, cfg.seed + 1, 0.5f, 1.5f);
  const std::vector<float> b = random_vector(cols, cfg.seed + 2, -0.5f, 0.5f);
  std::vector<float> want(x.size());
  oracle::layernorm_forward(x.data(), w.data(), b.data(), want.data(), rows, cols, kEps);
  DeviceBuffer dx(x), dw(w), db(b), dy(x.size());

  const Work work{(2.0 * x.size() + 2.0 * cols) * sizeof(float), false};  // x, y, w, b once each
  std::vector<Result> results;
  for (int v : versions) {
    Result r = result_row(layernorm_family(), v, std::to_string(rows) + " x " + std::to_string(cols), 1e-4);
    switch (v) {
      case 1:
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          layernorm_v1<<<ceil_div(rows, 128), 128>>>(dx.get(), dw.get(), db.get(), dy.get(), rows, cols);
        }));
        break;
      case 2:
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          layernorm_v2<<<ceil_div(rows * 32LL, 256), 256>>>(dx.get(), dw.get(), db.get(), dy.get(), rows, cols);
        }));
        break;
      case 3:
        if (cols % 4 != 0) {
          results.push_back(skipped(r, "float4 loads need cols % 4 == 0"));
          break;
        }
        results.push_back(measure(cfg, r, dy, want, work, [&] {
          layernorm_v3<<<ceil_div(rows * 32LL, 256), 256>>>(dx.get(), dw.get(), db.get(), dy.get(), rows, cols);
        }));
        break;
    }
  }
  return results;
}

}  // namespace

const Family& layernorm_family() {
  static const Family f{
      "layernorm",
      {
          {"thread per row, 3 passes", "the baseline: one thread per row; few threads and uncoalesced loads"},
          {"warp per row, shfl, 2-pass", "a warp per row: coalesced loads, sums by warp shuffles"},
          {"warp per row, float4, Welford", "16-byte vector loads, mean and variance in one Welford pass"},
      },
      run};
  return f;
}

}  // namespace lab
