// f32 GEMM for the CPU backend, in the BLIS style: B is packed into panels of NR columns that
// stay in L2, A into panels of MR rows that stay in L1, and a register-blocked micro-kernel
// computes each MR x NR tile of C over a KC-long slice of K. The micro-kernel is chosen when
// the process starts by what the CPU has: AVX-512 (12 x 32 tiles) or AVX2 + FMA (6 x 16); one
// binary runs at full speed on both. A CPU with neither (`generic`) uses Eigen's GEMM. A tile's sums run
// in the same order whatever the thread count, so results are bitwise the same on 1 or 64
// threads.
#pragma once
#include <cstdint>

namespace mb::cpu {

enum class GemmIsa { generic, avx2, avx512 };
// The micro-kernel this CPU runs; MB_GEMM_ISA=generic|avx2|avx512 forces one (for tests and
// benchmarks; a kernel the CPU cannot run is refused).
GemmIsa gemm_isa();
const char* gemm_isa_name(GemmIsa isa);
bool gemm_isa_supported(GemmIsa isa);

// Work folded into the product, so that a Linear layer makes no passes over its outputs of its
// own. Each gives bitwise what the separate pass gave: the bias is added to the first K-slice's
// sum as if it had been copied into C first, the ReLU is x > 0 ? x : 0 of the finished sum, and
// the row sums are summed in double in k's order, as the reduce kernel sums.
struct GemmEpilogue {
  const float* bias = nullptr;  // C = A·B + bias, bias[j] for column j (not with accumulate)
  bool relu = false;            // then C = max(C, 0)
  float* row_sums = nullptr;    // Σ_k A(i, k) for each of A's M rows (a Linear's bias gradient, A = gyᵀ)
};

// C (+)= A·B. A is M x K with A(i, k) = a[i·rsa + k·csa], B is K x N with B(k, j) = b[k·rsb +
// j·csb] (any strides: transposed operands are read in place), C is M x N with rows ldc apart
// and unit column stride. accumulate: C += A·B, else C = A·B. Threads: the OpenMP pool.
// isa: avx2 or avx512 (generic is the caller's to route elsewhere). MB_GEMM_SHARE_B=1|0 forces
// whether threads that split C's rows share one packed B (by default on AMD only).
void sgemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
           int64_t csb, float* c, int64_t ldc, bool accumulate, GemmIsa isa = gemm_isa(), const GemmEpilogue& ep = {});

}  // namespace mb::cpu
