// CUDA batched matmul through cuBLAS. cuBLAS is column-major; our matrices are row-major, and
// a row-major C = A·B is, read column-major, Cᵀ = Bᵀ·Aᵀ. So each call passes B first and A
// second, and an operand whose unit stride is along its rows (a transposed view) is passed
// with op T instead of being copied. f64 computes in f64, f32 in f32 (or TF32 on tensor cores
// when cuda::set_tf32(true)), bf16 in f32 with bf16 inputs and output.
#include <limits>

#include "cuda/cublas.cuh"
#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace mb::cuda {
namespace {

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t c = nullptr;
    MB_CUBLAS_CHECK(cublasCreate(&c));
    MB_CUBLAS_CHECK(cublasSetStream(c, stream()));
    return c;
  }();
  return h;
}

bool g_tf32 = false;

// One operand's matrices (n, R, C) as cuBLAS sees them: `trans` when the memory holds the
// matrix column by column (a transposed view), `ld` the distance between its rows (or columns).
struct Operand {
  Tensor t;  // the view itself, or a contiguous copy of a layout cuBLAS cannot take
  bool trans;
  int64_t ld, batch_stride;
};

Operand operand(const Tensor& t) {
  const int64_t R = t.shape()[1], C = t.shape()[2], s1 = t.strides()[1], s2 = t.strides()[2];
  const int64_t bs = t.shape()[0] == 1 ? R * C : t.strides()[0];
  if ((C == 1 || s2 == 1) && (R == 1 || s1 >= C)) return {t, false, R == 1 ? C : s1, bs};
  if ((R == 1 || s1 == 1) && (C == 1 || s2 >= R)) return {t, true, C == 1 ? R : s2, bs};
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device());  // e.g. a stride-0 (expanded) dim
  copy(t, c);
  return {c, false, C, R * C};
}

}  // namespace

void set_tf32(bool on) { g_tf32 = on; }
bool tf32_enabled() { return g_tf32; }

// out (n, M, N) row-major = a (n, M, K) @ b (n, K, N), or += when accumulate
void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  const int64_t n = a.shape()[0], M = a.shape()[1], K = a.shape()[2], N = b.shape()[2];
  if (n == 0 || M == 0 || N == 0) return;
  const Operand A = operand(a), B = operand(b);
  cudaDataType_t type = CUDA_R_32F;
  cublasComputeType_t compute = g_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const double one64 = 1, zero64 = 0;
  const float one32 = 1, zero32 = 0;
  const void* alpha = &one32;
  const void* beta = accumulate ? &one32 : &zero32;
  if (a.dtype() == DType::F64) {
    type = CUDA_R_64F;
    compute = CUBLAS_COMPUTE_64F;
    alpha = &one64;
    beta = accumulate ? &one64 : &zero64;
  } else if (a.dtype() == DType::BF16) {
    type = CUDA_R_16BF;
    compute = CUBLAS_COMPUTE_32F;
  }
  // cuBLAS takes sizes as int: checked, not wrapped
  auto as_int = [&](int64_t v, const char* what) {
    MB_CHECK(v <= int64_t(std::numeric_limits<int>::max()), "matmul on CUDA: ", what, " = ", v,
             " exceeds cuBLAS's int sizes (", to_string(a.shape()), " @ ", to_string(b.shape()), ")");
    return int(v);
  };
  // column-major: Cᵀ (N x M, ld N) = op(B) (N x K) · op(A) (K x M)
  MB_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle(), B.trans ? CUBLAS_OP_T : CUBLAS_OP_N, A.trans ? CUBLAS_OP_T : CUBLAS_OP_N, as_int(N, "N"), as_int(M, "M"),
      as_int(K, "K"), alpha, B.t.raw_data(), type, as_int(B.ld, "the leading dim of b"), B.batch_stride, A.t.raw_data(),
      type, as_int(A.ld, "the leading dim of a"), A.batch_stride, beta, out.raw_data(), type, as_int(N, "N"), M * N,
      as_int(n, "the batch"), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace mb::cuda
