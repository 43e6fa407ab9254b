#pragma once
#include "emu_cuda.h"
enum cublasStatus_t { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_ARCH_MISMATCH = 8, CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13, CUBLAS_STATUS_INTERNAL_ERROR = 14, CUBLAS_STATUS_NOT_SUPPORTED = 15 };
typedef struct cublasContext* cublasHandle_t;
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14 };
enum cublasComputeType_t { CUBLAS_COMPUTE_16F = 64, CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77, CUBLAS_COMPUTE_64F = 70 };
enum cublasGemmAlgo_t { CUBLAS_GEMM_DEFAULT = -1 };
inline cublasStatus_t cublasCreate(cublasHandle_t* h) { static char d; *h = reinterpret_cast<cublasHandle_t>(&d); return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasDestroy(cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }
namespace emu {
template <class T, class Acc>
void gemm_cm(bool ta, bool tb, int m, int n, int k, Acc alpha, const T* A, int lda, long long sa, const T* B, int ldb,
             long long sb, Acc beta, T* C, int ldc, long long sc, int batch) {
  for (int b = 0; b < batch; ++b) {
    const T* Ab = A + b * sa; const T* Bb = B + b * sb; T* Cb = C + b * sc;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        Acc s = 0;
        for (int p = 0; p < k; ++p) {
          Acc a = Acc(ta ? Ab[p + (long long)i * lda] : Ab[i + (long long)p * lda]);
          Acc bb = Acc(tb ? Bb[j + (long long)p * ldb] : Bb[p + (long long)j * ldb]);
          s += a * bb;
        }
        T& c = Cb[i + (long long)j * ldc];
        c = T(beta == Acc(0) ? alpha * s : alpha * s + beta * Acc(c));  // beta 0: C not read (NaN-safe)
      }
  }
}
}  // namespace emu
inline cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m,
    int n, int k, const void* alpha, const void* A, cudaDataType_t Atype, int lda, long long strideA, const void* B,
    cudaDataType_t Btype, int ldb, long long strideB, const void* beta, void* C, cudaDataType_t Ctype, int ldc,
    long long strideC, int batch, cublasComputeType_t compute, cublasGemmAlgo_t) {
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
  if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  // cuBLAS rules: lda >= max(1, rows of A as stored), ...
  const int arows = ta ? k : m, brows = tb ? n : k;
  if (lda < std::max(1, arows) || ldb < std::max(1, brows) || ldc < std::max(1, m)) {
    std::fprintf(stderr, "EMU cuBLAS: invalid ld: m %d n %d k %d ta %d tb %d lda %d ldb %d ldc %d\n", m, n, k, ta, tb, lda, ldb, ldc);
    ++emu::errors;
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (Atype != Btype || Atype != Ctype) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (Atype == CUDA_R_64F) {
    if (compute != CUBLAS_COMPUTE_64F) return CUBLAS_STATUS_NOT_SUPPORTED;
    emu::gemm_cm<double, double>(ta, tb, m, n, k, *static_cast<const double*>(alpha), static_cast<const double*>(A), lda, strideA,
        static_cast<const double*>(B), ldb, strideB, *static_cast<const double*>(beta), static_cast<double*>(C), ldc, strideC, batch);
  } else if (Atype == CUDA_R_32F) {
    if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32) return CUBLAS_STATUS_NOT_SUPPORTED;
    emu::gemm_cm<float, float>(ta, tb, m, n, k, *static_cast<const float*>(alpha), static_cast<const float*>(A), lda, strideA,
        static_cast<const float*>(B), ldb, strideB, *static_cast<const float*>(beta), static_cast<float*>(C), ldc, strideC, batch);
  } else if (Atype == CUDA_R_16BF) {
    if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32) return CUBLAS_STATUS_NOT_SUPPORTED;
    emu::gemm_cm<__nv_bfloat16, float>(ta, tb, m, n, k, *static_cast<const float*>(alpha), static_cast<const __nv_bfloat16*>(A), lda, strideA,
        static_cast<const __nv_bfloat16*>(B), ldb, strideB, *static_cast<const float*>(beta), static_cast<__nv_bfloat16*>(C), ldc, strideC, batch);
  } else return CUBLAS_STATUS_NOT_SUPPORTED;
  return CUBLAS_STATUS_SUCCESS;
}
inline const char* cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_EMU_ERROR"; }
inline cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const float* alpha,
                                  const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
  return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, alpha, A, CUDA_R_32F, lda, 0, B, CUDA_R_32F, ldb, 0, beta, C, CUDA_R_32F,
                                    ldc, 0, 1, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}
