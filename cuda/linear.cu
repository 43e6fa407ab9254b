// The Linear kernels through cuBLASLt, with the bias in the GEMM's epilogue: forward
// EPILOGUE_BIAS (y = x·wᵀ + b in one pass, no copy of b into y and no read of y; RELU_BIAS for
// an MLP's first Linear, the ReLU in the same pass), backward
// EPILOGUE_BGRADB (gb = Σ_rows gy from the same GEMM that makes gw = gyᵀ·x, no second pass
// over gy). Sizes are 64-bit (cuBLASLt layouts take them). f32 and bf16 (f32 accumulation;
// TF32 when cuda::set_tf32); f64, and any combination cuBLASLt has no algorithm for, go through
// linear_by_gemm (a bias copy, cuBLAS, a reduction), the refusal noted once per shape on stderr.
// Each GEMM's descriptor, layouts and algorithm (cuBLASLt's heuristic, given our workspace so
// that it may split K for the weight gradients) are made on its first call and cached.
//
// Column-major, as cuBLASLt reads it: row-major y (rows, out) is D (out x rows) = W · Xᵀ with
// A = w (stored (in x out) column-major, op T) and B = x (in x rows, op N); the bias runs along
// D's rows. Row-major gw (out, in) is D (in x out) = Xᵀ·Gy with A = x (in x rows, op N) and
// B = gy (stored (out x rows), op T); BGRADB sums B over k = rows: one value per column of D.
#include <cublasLt.h>

#include <array>
#include <cstdio>
#include <map>
#include <mutex>

#include "cuda/cublas.cuh"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

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

// The largest power of two (at most 256, cuBLASLt's default assumption) that divides p: the
// heuristic picks algorithms by the alignment of each pointer.
uint32_t alignment(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && a % al) al /= 2;
  return al;
}

// A GEMM's plan: its descriptor, layouts and the algorithm cuBLASLt's heuristic chose (with our
// workspace), built on the first call of its kind and kept for the process; or its refusal
// (no algorithm for this dtype, epilogue and shape), for the caller's composed path.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  cublasStatus_t refused = CUBLAS_STATUS_SUCCESS;  // why not, when it was refused
};
// Everything the heuristic sees: operations, shapes, leading dimensions, dtype, math mode,
// epilogue, and each pointer's alignment (the pointers themselves are set at each call).
using PlanKey = std::array<int64_t, 15>;

LinearPlanStats stats;

constexpr cublasLtEpilogue_t kEpilogues[] = {CUBLASLT_EPILOGUE_DEFAULT, CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU,
                                             CUBLASLT_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_BGRADB};
constexpr const char* kEpilogueNames[] = {"a plain GEMM", "EPILOGUE_BIAS", "EPILOGUE_RELU", "EPILOGUE_RELU_BIAS",
                                          "EPILOGUE_BGRADB"};
const char* epilogue_name(cublasLtEpilogue_t e) {
  for (int i = 0; i < 5; ++i)
    if (kEpilogues[i] == e) return kEpilogueNames[i];
  return "an epilogue";
}

Plan make_plan(const LtGemm& g, DType dtype, cublasComputeType_t compute) {
  const cudaDataType_t type = dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  Plan p;
  MB_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.desc, compute, CUDA_R_32F));
  const cublasOperation_t opa = g.ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = g.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
  MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &g.epilogue, sizeof g.epilogue));
  if (g.bias)  // the heuristic reads its alignment
    MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof g.bias));
  // stored shapes: op(A) is m x k, op(B) is k x n
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a, type, uint64_t(g.ta ? g.k : g.m), uint64_t(g.ta ? g.m : g.k), g.lda));
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.b, type, uint64_t(g.tb ? g.n : g.k), uint64_t(g.tb ? g.k : g.n), g.ldb));
  MB_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.d, type, uint64_t(g.m), uint64_t(g.n), g.ldd));
  cublasLtMatmulPreference_t pref = nullptr;
  MB_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t space = kWorkspace;
  MB_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &space, sizeof space));
  const uint32_t al[] = {alignment(g.a), alignment(g.b), alignment(g.d)};
  const cublasLtMatmulPreferenceAttributes_t which[] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int i = 0; i < 4; ++i)  // C is D
    MB_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, which[i], &al[i < 3 ? i : 2], sizeof al[0]));
  cublasLtMatmulHeuristicResult_t best{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(lt_handle(), p.desc, p.a, p.b, p.d, p.d, pref, 1, &best, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || (st == CUBLAS_STATUS_SUCCESS && found == 0))
    p.refused = CUBLAS_STATUS_NOT_SUPPORTED;  // no algorithm for this combination: not an error
  else if (st == CUBLAS_STATUS_SUCCESS && best.state != CUBLAS_STATUS_SUCCESS)
    p.refused = best.state;
  else
    MB_CUBLAS_CHECK(st);  // anything else (a bad layout, say) is our bug: an error
  p.algo = best.algo;
  ++stats.plans;
  if (p.refused != CUBLAS_STATUS_SUCCESS) {
    ++stats.refused;
    std::fprintf(stderr, "cuBLASLt: %s in %s, m %lld n %lld k %lld, has no algorithm here (%s); using a GEMM and a separate pass\n",
                 epilogue_name(g.epilogue), dtype_name(dtype), (long long)g.m, (long long)g.n, (long long)g.k,
                 cublas_status_name(p.refused));
  }
  return p;
}

// The plan for g, from the cache or made now.
const Plan& plan_for(const LtGemm& g, DType dtype) {
  const cublasComputeType_t compute =
      dtype == DType::F32 && tf32_enabled() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const PlanKey key{g.ta, g.tb, g.m, g.n, g.k, g.lda, g.ldb, g.ldd, int64_t(dtype), int64_t(compute),
                    int64_t(g.epilogue), alignment(g.a), alignment(g.b), alignment(g.d),
                    g.bias ? alignment(g.bias) : 0};
  static std::mutex mutex;
  // kept for the process (never destroyed: a model has a few dozen shapes)
  static auto* plans = new std::map<PlanKey, Plan>;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto it = plans->find(key);
  if (it != plans->end()) {
    ++stats.hits;
    return it->second;
  }
  return plans->emplace(key, make_plan(g, dtype, compute)).first->second;
}

// Runs g with its plan's algorithm; false when cuBLASLt has no algorithm for it (noted once per
// plan on stderr), for the caller's composed path. Any error throws.
bool try_lt(const LtGemm& g, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::BF16) return false;
  const Plan& p = plan_for(g, dtype);
  if (p.refused != CUBLAS_STATUS_SUCCESS) return false;
  if (g.bias)  // (the plan's descriptor is shared: the backend runs on one host thread)
    MB_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof g.bias));
  const float one = 1, zero = 0;
  MB_CUBLAS_CHECK(cublasLtMatmul(lt_handle(), p.desc, &one, g.a, p.a, g.b, p.b, &zero, g.d, p.d, g.d, p.d, &p.algo,
                                 workspace(), kWorkspace, stream()));
  return true;
}

}  // namespace

LinearPlanStats linear_plan_stats() { return stats; }

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
