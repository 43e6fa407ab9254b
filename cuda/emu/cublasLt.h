#pragma once
// cuBLASLt for the emulator: the calls cuda/linear.cu makes, a naive column-major GEMM with the
// BIAS, RELU, RELU_BIAS and BGRADB epilogues (bias added in f32 before the one rounding to the output type, as
// cuBLASLt does; the bias gradient summed in f32 over k). The heuristic checks the problem as
// cuBLASLt would (inconsistent shapes are INVALID_VALUE, types it has no kernel for
// NOT_SUPPORTED) and returns one algorithm that records the alignments it was asked for; the
// matmul runs only with such an algorithm, and fails on a pointer less aligned than promised.
#include "cublas_v2.h"
typedef struct cublasLtContext* cublasLtHandle_t;
enum cublasLtEpilogue_t { CUBLASLT_EPILOGUE_DEFAULT = 1, CUBLASLT_EPILOGUE_RELU = 2, CUBLASLT_EPILOGUE_BIAS = 4,
  CUBLASLT_EPILOGUE_RELU_BIAS = 6, CUBLASLT_EPILOGUE_BGRADB = 512 };
enum cublasLtMatmulDescAttributes_t { CUBLASLT_MATMUL_DESC_TRANSA = 3, CUBLASLT_MATMUL_DESC_TRANSB = 4,
  CUBLASLT_MATMUL_DESC_EPILOGUE = 7, CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8 };
struct emuLtDesc { cublasComputeType_t compute; cudaDataType_t scale; cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT; void* bias = nullptr; };
typedef emuLtDesc* cublasLtMatmulDesc_t;
struct emuLtLayout { cudaDataType_t type; uint64_t rows, cols; int64_t ld; };
typedef emuLtLayout* cublasLtMatrixLayout_t;
struct cublasLtMatmulAlgo_t { uint64_t data[8]; };
enum cublasLtMatmulPreferenceAttributes_t { CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8 };
struct emuLtPref { uint64_t workspace = 0; uint32_t align[4] = {256, 256, 256, 256}; };  // A, B, C, D
typedef emuLtPref* cublasLtMatmulPreference_t;
struct cublasLtMatmulHeuristicResult_t { cublasLtMatmulAlgo_t algo; size_t workspaceSize; cublasStatus_t state;
  float wavesCount; int reserved[4]; };
inline cublasStatus_t cublasLtCreate(cublasLtHandle_t* h) { static char d; *h = reinterpret_cast<cublasLtHandle_t>(&d); return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* d, cublasComputeType_t c, cudaDataType_t s) {
  *d = new emuLtDesc{c, s}; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) { delete d; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void* v, size_t n) {
  switch (a) {
    case CUBLASLT_MATMUL_DESC_TRANSA: if (n != sizeof d->ta) return CUBLAS_STATUS_INVALID_VALUE; std::memcpy(&d->ta, v, n); break;
    case CUBLASLT_MATMUL_DESC_TRANSB: if (n != sizeof d->tb) return CUBLAS_STATUS_INVALID_VALUE; std::memcpy(&d->tb, v, n); break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE: if (n != sizeof d->epilogue) return CUBLAS_STATUS_INVALID_VALUE; std::memcpy(&d->epilogue, v, n); break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: if (n != sizeof d->bias) return CUBLAS_STATUS_INVALID_VALUE; std::memcpy(&d->bias, v, n); break;
    default: return CUBLAS_STATUS_INVALID_VALUE;
  }
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* l, cudaDataType_t t, uint64_t rows, uint64_t cols, int64_t ld) {
  if (ld < int64_t(rows > 0 ? rows : 1)) return CUBLAS_STATUS_INVALID_VALUE;
  *l = new emuLtLayout{t, rows, cols, ld}; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) { delete l; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* p) { *p = new emuLtPref; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) { delete p; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t a,
                                                           const void* v, size_t n) {
  if (a == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES) {
    if (n != sizeof p->workspace) return CUBLAS_STATUS_INVALID_VALUE;
    std::memcpy(&p->workspace, v, n);
    return CUBLAS_STATUS_SUCCESS;
  }
  if (a < CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES || a > CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES || n != sizeof(uint32_t))
    return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(&p->align[a - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES], v, n);
  return CUBLAS_STATUS_SUCCESS;
}
namespace emu {
constexpr uint64_t kLtAlgoTag = 0x656d754c74416c67;  // "emuLtAlg": made by the heuristic below
// The problem as cuBLASLt checks it: shapes that agree, types it has a kernel for, a bias
// pointer exactly when the epilogue reads or writes one.
inline cublasStatus_t lt_check(const emuLtDesc& d, const emuLtLayout& la, const emuLtLayout& lb, const emuLtLayout& lc,
                               const emuLtLayout& ld) {
  if (la.type != lb.type || la.type != ld.type || lc.type != ld.type || lc.ld != ld.ld) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (ld.type != CUDA_R_32F && ld.type != CUDA_R_16BF) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (d.scale != CUDA_R_32F || (d.compute != CUBLAS_COMPUTE_32F && d.compute != CUBLAS_COMPUTE_32F_FAST_TF32)) return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool ta = d.ta != CUBLAS_OP_N, tb = d.tb != CUBLAS_OP_N;
  const uint64_t m = ld.rows, n = ld.cols, k = ta ? la.rows : la.cols;
  if ((ta ? la.cols : la.rows) != m || (tb ? lb.rows : lb.cols) != n || (tb ? lb.cols : lb.rows) != k ||
      lc.rows != m || lc.cols != n)
    return CUBLAS_STATUS_INVALID_VALUE;
  const bool wants_bias = d.epilogue == CUBLASLT_EPILOGUE_BIAS || d.epilogue == CUBLASLT_EPILOGUE_RELU_BIAS ||
                          d.epilogue == CUBLASLT_EPILOGUE_BGRADB;
  return wants_bias != (d.bias != nullptr) ? CUBLAS_STATUS_INVALID_VALUE : CUBLAS_STATUS_SUCCESS;
}
inline bool aligned(const void* p, uint64_t to) { return reinterpret_cast<uintptr_t>(p) % (to ? to : 1) == 0; }
}  // namespace emu
inline cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t la,
    cublasLtMatrixLayout_t lb, cublasLtMatrixLayout_t lc, cublasLtMatrixLayout_t ld, cublasLtMatmulPreference_t p,
    int requested, cublasLtMatmulHeuristicResult_t* results, int* found) {
  if (requested <= 0) return CUBLAS_STATUS_INVALID_VALUE;
  *found = 0;
  const cublasStatus_t st = emu::lt_check(*d, *la, *lb, *lc, *ld);
  if (st != CUBLAS_STATUS_SUCCESS) return st;
  results[0] = cublasLtMatmulHeuristicResult_t{};
  results[0].algo.data[0] = emu::kLtAlgoTag;
  for (int i = 0; i < 4; ++i) results[0].algo.data[1 + i] = p->align[i];
  results[0].state = CUBLAS_STATUS_SUCCESS;
  results[0].wavesCount = 1;
  *found = 1;
  return CUBLAS_STATUS_SUCCESS;
}
namespace emu {
template <class T> cublasStatus_t lt_gemm(const emuLtDesc& d, float alpha, const T* A, const emuLtLayout& la, const T* B,
                                          const emuLtLayout& lb, float beta, T* D, const emuLtLayout& ld) {
  const bool ta = d.ta != CUBLAS_OP_N, tb = d.tb != CUBLAS_OP_N;
  const int64_t m = int64_t(ld.rows), n = int64_t(ld.cols), k = int64_t(ta ? la.rows : la.cols);
  auto a = [&](int64_t i, int64_t p) { return float(ta ? A[p + i * la.ld] : A[i + p * la.ld]); };
  auto b = [&](int64_t p, int64_t j) { return float(tb ? B[j + p * lb.ld] : B[p + j * lb.ld]); };
  T* bias = static_cast<T*>(d.bias);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < m; ++i) {
      float s = 0;
      for (int64_t p = 0; p < k; ++p) s += a(i, p) * b(p, j);
      s = alpha * s + (beta == 0 ? 0.0f : beta * float(D[i + j * ld.ld]));
      if (d.epilogue == CUBLASLT_EPILOGUE_BIAS || d.epilogue == CUBLASLT_EPILOGUE_RELU_BIAS) s += float(bias[i]);
      if (d.epilogue == CUBLASLT_EPILOGUE_RELU || d.epilogue == CUBLASLT_EPILOGUE_RELU_BIAS) s = s > 0 ? s : 0;
      D[i + j * ld.ld] = T(s);
    }
  if (d.epilogue == CUBLASLT_EPILOGUE_BGRADB)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (int64_t p = 0; p < k; ++p) s += b(p, j);
      bias[j] = T(s);
    }
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace emu
inline cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t d, const void* alpha, const void* A, cublasLtMatrixLayout_t la,
    const void* B, cublasLtMatrixLayout_t lb, const void* beta, const void* C, cublasLtMatrixLayout_t lc, void* D,
    cublasLtMatrixLayout_t ld, const cublasLtMatmulAlgo_t* algo, void*, size_t, cudaStream_t) {
  // (a real cuBLASLt takes a null algorithm and runs its own heuristic: linear.cu must not)
  if (!algo || algo->data[0] != emu::kLtAlgoTag) return CUBLAS_STATUS_INVALID_VALUE;
  const cublasStatus_t st = emu::lt_check(*d, *la, *lb, *lc, *ld);
  if (st != CUBLAS_STATUS_SUCCESS) return st;
  if (C != D || !emu::aligned(A, algo->data[1]) || !emu::aligned(B, algo->data[2]) || !emu::aligned(C, algo->data[3]) ||
      !emu::aligned(D, algo->data[4]))
    return CUBLAS_STATUS_INVALID_VALUE;
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  if (ld->type == CUDA_R_32F)
    return emu::lt_gemm(*d, al, static_cast<const float*>(A), *la, static_cast<const float*>(B), *lb, be, static_cast<float*>(D), *ld);
  return emu::lt_gemm(*d, al, static_cast<const __nv_bfloat16*>(A), *la, static_cast<const __nv_bfloat16*>(B), *lb, be,
                      static_cast<__nv_bfloat16*>(D), *ld);
}
