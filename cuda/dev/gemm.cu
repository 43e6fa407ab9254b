// GEMM, row-major, f32: C (M, N) = A (M, K) . B (K, N).
// Compute-bound when large: 2 M N K flops on (M K + K N + M N) floats. The versions raise the
// number of flops done per float loaded, first from shared memory, then from registers, and end
// with cuBLAS as the yardstick.
#include <cublas_v2.h>

#include <string>

#include "lab.cuh"
#include "oracle.h"

#define CUBLAS_CHECK(call)                                                                            \
  do {                                                                                                \
    const cublasStatus_t st_ = (call);                                                                \
    if (st_ != CUBLAS_STATUS_SUCCESS) {                                                               \
      std::fprintf(stderr, "cuBLAS error in %s at %s:%d: %s\n", #call, __FILE__, __LINE__,            \
                   cublasGetStatusString(st_));                                                       \
      std::exit(2);                                                                                   \
    }                                                                                                 \
  } while (0)

namespace lab {
namespace {

// v1: one thread per element of C, a dot product of length K straight from global memory.
// threadIdx.x runs along the columns of C: a warp reads 32 consecutive floats of a row of B
// (coalesced) and one float of A (broadcast). Every float of A and B is fetched from memory (or
// L2) N and M times: 2 flops per 8 bytes loaded.
__global__ void gemm_v1(const float* A, const float* B, float* C, int M, int N, int K) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int row = blockIdx.y * blockDim.y + threadIdx.y;
  if (row >= M || col >= N) return;
  float acc = 0;
  for (int p = 0; p < K; ++p) acc += A[size_t(row) * K + p] * B[size_t(p) * N + col];
  C[size_t(row) * N + col] = acc;
}

// v2: shared-memory tiling. A block of 32 x 32 threads computes a 32 x 32 tile of C. It walks
// along K in steps of 32: the block loads a 32 x 32 tile of A and one of B into shared memory
// (one float per thread, coalesced), waits, and every thread does 32 multiply-adds from shared
// memory. Each float loaded from global memory is now used 32 times.
constexpr int kTile = 32;
__global__ void gemm_v2(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[kTile][kTile];
  __shared__ float Bs[kTile][kTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx;
  float acc = 0;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    As[ty][tx] = row < M && k0 + tx < K ? A[size_t(row) * K + k0 + tx] : 0.0f;  // zeros past the edges
    Bs[ty][tx] = k0 + ty < K && col < N ? B[size_t(k0 + ty) * N + col] : 0.0f;
    __syncthreads();
    // As[ty][p]: one address per warp (broadcast); Bs[p][tx]: 32 consecutive, no bank conflicts
    for (int p = 0; p < kTile; ++p) acc += As[ty][p] * Bs[p][tx];
    __syncthreads();
  }
  if (row < M && col < N) C[size_t(row) * N + col] = acc;
}

// v3: 2D register blocking. A block of 256 threads computes a 128 x 128 tile of C, each thread
// an 8 x 8 sub-tile held in 64 registers. Per step along K it reads 8 values of A and 8 of B from
// shared memory into registers and does 64 multiply-adds with them: 8 flops per shared-memory
// load instead of v2's 1, and 128 flops per global float instead of 32. The thread's rows and
// columns are strided by 16 (thread (tr, tc) owns rows tr, tr + 16, ... and columns tc, tc + 16,
// ...), so that a warp's shared-memory reads hit distinct banks and its stores to C coalesce.
constexpr int kBM = 128, kBN = 128, kBK = 8, kTM = 8, kTN = 8;
constexpr int kV3Threads = (kBM / kTM) * (kBN / kTN);  // 256
constexpr int kRowStride = kBM / kTM, kColStride = kBN / kTN;  // 16, 16

__global__ void __launch_bounds__(kV3Threads) gemm_v3(const float* A, const float* B, float* C, int M, int N, int K) {
  __shared__ float As[kBM][kBK];
  __shared__ float Bs[kBK][kBN];
  const int tid = threadIdx.x;
  const int tr = tid / kColStride, tc = tid % kColStride;
  const int row0 = blockIdx.y * kBM, col0 = blockIdx.x * kBN;

  float acc[kTM][kTN] = {};
  float a[kTM], b[kTN];
  for (int k0 = 0; k0 < K; k0 += kBK) {
    for (int idx = tid; idx < kBM * kBK; idx += kV3Threads) {
      const int r = idx / kBK, c = idx % kBK;
      As[r][c] = row0 + r < M && k0 + c < K ? A[size_t(row0 + r) * K + k0 + c] : 0.0f;
    }
    for (int idx = tid; idx < kBK * kBN; idx += kV3Threads) {
      const int r = idx / kBN, c = idx % kBN;
      Bs[r][c] = k0 + r < K && col0 + c < N ? B[size_t(k0 + r) * N + col0 + c] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int p = 0; p < kBK; ++p) {
#pragma unroll
      for (int i = 0; i < kTM; ++i) a[i] = As[tr + i * kRowStride][p];
#pragma unroll
      for (int j = 0; j < kTN; ++j) b[j] = Bs[p][tc + j * kColStride];
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int row = row0 + tr + i * kRowStride;
#pragma unroll
    for (int j = 0; j < kTN; ++j) {
      const int col = col0 + tc + j * kColStride;
      if (row < M && col < N) C[size_t(row) * N + col] = acc[i][j];
    }
  }
}

std::vector<Result> run(const std::vector<int>& versions, const Config& cfg) {
  const int M = cfg.m, N = cfg.n, K = cfg.k;
  const std::vector<float> a = random_vector(size_t(M) * K, cfg.seed), b = random_vector(size_t(K) * N, cfg.seed + 1);
  std::vector<float> want(size_t(M) * N);
  oracle::gemm(a.data(), b.data(), want.data(), M, N, K);
  DeviceBuffer dA(a), dB(b), dC(want.size());

  const Work work{2.0 * M * N * double(K), true};
  std::vector<Result> results;
  for (int v : versions) {
    // f32 accumulation along K: the error grows about linearly with K (a simulation of
    // 200k dot products at K = 2048 gave at most 4e-5), so the tolerance does too
    Result r = result_row(gemm_family(), v, std::to_string(M) + " x " + std::to_string(N) + " x " + std::to_string(K),
                          std::max(1e-5, 1e-7 * K));
    switch (v) {
      case 1:
        results.push_back(measure(cfg, r, dC, want, work, [&] {
          gemm_v1<<<dim3(ceil_div(N, 32), ceil_div(M, 8)), dim3(32, 8)>>>(dA.get(), dB.get(), dC.get(), M, N, K);
        }));
        break;
      case 2:
        results.push_back(measure(cfg, r, dC, want, work, [&] {
          gemm_v2<<<dim3(ceil_div(N, kTile), ceil_div(M, kTile)), dim3(kTile, kTile)>>>(dA.get(), dB.get(),
                                                                                       dC.get(), M, N, K);
        }));
        break;
      case 3:
        results.push_back(measure(cfg, r, dC, want, work, [&] {
          gemm_v3<<<dim3(ceil_div(N, kBN), ceil_div(M, kBM)), kV3Threads>>>(dA.get(), dB.get(), dC.get(), M, N, K);
        }));
        break;
      case 4: {
        // cuBLAS is column-major. A row-major (M, N) matrix is a column-major (N, M) one, so ask
        // for C^T = B^T . A^T: the row-major B and A, in that order, with no transposes.
        // Default math mode: full f32, no TF32 tensor cores, the same arithmetic as v1-v3.
        cublasHandle_t handle;
        CUBLAS_CHECK(cublasCreate(&handle));
        const float one = 1, zero = 0;
        results.push_back(measure(cfg, r, dC, want, work, [&] {
          CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, dB.get(), N, dA.get(), K,
                                   &zero, dC.get(), N));
        }));
        CUBLAS_CHECK(cublasDestroy(handle));
        break;
      }
    }
  }
  return results;
}

}  // namespace

const Family& gemm_family() {
  static const Family f{
      "gemm",
      {
          {"naive, thread per element", "the baseline: a dot product per thread from global memory"},
          {"shared-memory tiles 32x32", "32 x 32 tiles of A and B staged in shared memory: 32 uses per load"},
          {"register blocking 8x8/thread", "128 x 128 block tiles, 8 x 8 outputs per thread in registers"},
          {"cuBLAS sgemm (yardstick)", "the vendor library, same f32 arithmetic: the number to chase"},
      },
      run};
  return f;
}

}  // namespace lab
