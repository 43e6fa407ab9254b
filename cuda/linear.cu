// The Linear kernels through cuBLASLt, with the bias in the GEMM's epilogue: forward
// EPILOGUE_BIAS (y = x·wᵀ + b in one pass, no copy of b into y and no read of y; RELU_BIAS for
// an MLP's first Linear, the ReLU in the same pass), backward
// EPILOGUE_BGRADB (gb = Σ_rows gy from the same GEMM that makes gw = gyᵀ·x, no second pass
// over gy). Sizes are 64-bit (cuBLASLt layouts take them). f32 and bf16 (f32 accumulation;
// TF32 when cuda::set_tf32); f64, and any combination cuBLASLt refuses, go through
// linear_by_gemm (a bias copy, cuBLAS, a reduction), the refusal noted once on stderr.
//
// Column-major, as cuBLASLt reads it: row-major y (rows, out) is D (out x rows) = W · Xᵀ with
// A = w (stored (in x out) column-major, op T) and B = x (in x rows, op N); the bias runs along
// D's rows. Row-major gw (out, in) is D (in x out) = Xᵀ·Gy with A = x (in x rows, op N) and
// B = gy (stored (out x rows), op T); BGRADB sums B over k = rows: one value per column of D.
#include <cublasLt.h>

#include <cstdio>

#include "cuda/cublas.cuh"
#include "cuda/kernels.h"

namespace mb::cuda {
namespace {

cublasLtHandle_t lt_handle() {
  static cublasLtHandle_t h = [] {
    cublasLtHandle_t c = nullptr;
    MB_CUBLAS_CHECK(cublasLtCreate(&c));
    return c;
  }();
  return h;
}

// cuBLASLt's scratch space, held for the process (what it may use to pick faster algorithms).
constexpr size_t kWorkspace = 32u << 20;
void* workspace() {
  static const Tensor w = Tensor::empty({int64_t(kWorkspace)}, DType::U8, Device::CUDA);
  return w.raw_data();
}

struct LtGemm {
  bool ta, tb;
  int64_t m, n, k, lda, ldb, ldd;
  const void *a, *b;
  void* d;
  cublasLtEpilogue_t epilogue;
  void* bias;  // the bias (BIAS) or the bias gradient (BGRADB)
};

// Runs g; returns cuBLASLt's status (not-supported is the caller's to handle).
cublasStatus_t run(const LtGemm& g, DType dtype) {
  const cudaDataType_t type = dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute =
      dtype == DType::F32 && tf32_enabled() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
  MB_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, compute, CUDA_R_32F));
  const cublasOperation_t opa = g.ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = g.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &g.epilogue, sizeof g.epilogue));
  if (g.bias)
    MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof g.bias));
  // stored shapes: op(A) is m x k, op(B) is k x n
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, type, uint64_t(g.ta ? g.k : g.m), uint64_t(g.ta ? g.m : g.k), g.lda));
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, type, uint64_t(g.tb ? g.n : g.k), uint64_t(g.tb ? g.k : g.n), g.ldb));
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&ld, type, uint64_t(g.m), uint64_t(g.n), g.ldd));
  const float one = 1, zero = 0;
  const cublasStatus_t st = cublasLtMatmul(lt_handle(), desc, &one, g.a, la, g.b, lb, &zero, g.d, ld, g.d, ld, nullptr,
                                           workspace(), kWorkspace, stream());
  cublasLtMatrixLayoutDestroy(ld);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatmulDescDestroy(desc);
  return st;
}

constexpr cublasLtEpilogue_t kEpilogues[] = {CUBLASLT_EPILOGUE_DEFAULT, CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU,
                                             CUBLASLT_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_BGRADB};
constexpr const char* kEpilogueNames[] = {"a plain GEMM", "EPILOGUE_BIAS", "EPILOGUE_RELU", "EPILOGUE_RELU_BIAS",
                                          "EPILOGUE_BGRADB"};
int epilogue_index(cublasLtEpilogue_t e) {
  for (int i = 0; i < 5; ++i)
    if (kEpilogues[i] == e) return i;
  return 0;
}
const char* epilogue_name(cublasLtEpilogue_t e) { return kEpilogueNames[epilogue_index(e)]; }

// Runs g when cuBLASLt takes it for this dtype and epilogue; false (and a note, once per kind)
// when it does not, for the caller's composed path. Other errors throw.
bool try_lt(const LtGemm& g, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::BF16) return false;
  static bool refused[2][5] = {};  // [bf16][epilogue]
  bool& no = refused[dtype == DType::BF16][epilogue_index(g.epilogue)];
  if (no) return false;
  const cublasStatus_t st = run(g, dtype);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || st == CUBLAS_STATUS_INVALID_VALUE) {
    no = true;
    std::fprintf(stderr, "cuBLASLt: %s in %s is %s here; using a GEMM and a separate pass\n", epilogue_name(g.epilogue),
                 dtype_name(dtype), cublas_status_name(st));
    return false;
  }
  MB_CUBLAS_CHECK(st);
  return true;
}

}  // namespace

void linear(const Tensor& x, const Tensor& w, const Tensor& b, bool relu, const Tensor& y) {
  const int64_t rows = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  if (rows == 0 || out == 0) return;
  const cublasLtEpilogue_t epilogue = b.defined() ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                                                  : (relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
  const LtGemm g{true, false, out, rows, in, in, in, out, w.raw_data(), x.raw_data(), y.raw_data(), epilogue,
                 b.defined() ? b.raw_data() : nullptr};
  if (in == 0 || !try_lt(g, x.dtype())) linear_by_gemm(kernel_table(), x, w, b, relu, y);
}

void linear_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const Tensor& gb) {
  const int64_t rows = x.shape()[0], in = x.shape()[1], out = gy.shape()[1];
  if (out == 0) return;
  const LtGemm g{false, true, in, out, rows, in, out, in, x.raw_data(), gy.raw_data(), gw.raw_data(),
                 gb.defined() ? CUBLASLT_EPILOGUE_BGRADB : CUBLASLT_EPILOGUE_DEFAULT,
                 gb.defined() ? gb.raw_data() : nullptr};
  if (rows == 0 || in == 0 || !try_lt(g, x.dtype()))
    linear_backward_weight_by_gemm(kernel_table(), x, gy, gw, gb);
}

}  // namespace mb::cuda
