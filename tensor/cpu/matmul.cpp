// CPU batched matmul through Eigen's GEMM. Each operand matrix is mapped in place, row- or
// column-major depending on which of its strides is 1, so transposed views cost no copy.
// Many small matrices: one GEMM per thread (OpenMP over the batch). A tall row-major one (the
// (B·T, C) activations of a Linear layer): its rows split between the threads, each running
// Eigen's GEMM on its block; Eigen's own threading scales badly on these skinny shapes (246 vs
// 314 GFLOP/s for 8192x128 @ 128x512 on 2 threads; docs/cpu-performance.md). Otherwise (the
// weight gradients xᵀ·gy among them) one at a time, threaded by Eigen on the same OpenMP pool.
#include "tensor/cpu/eigen.h"

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {
namespace {

template <class T, int Order>
using MatMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0,
                          Eigen::OuterStride<>>;
template <class T>
using OutMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// A 2-D matrix of a 3-D view at batch index i: row-major if its column stride is 1.
template <class T, int Order>
MatMap<T, Order> matrix(const Tensor& t, int64_t i) {
  const T* p = static_cast<const T*>(t.raw_data()) + i * t.strides()[0];
  const int64_t outer = Order == Eigen::RowMajor ? t.strides()[1] : t.strides()[2];
  return MatMap<T, Order>(p, t.shape()[1], t.shape()[2], Eigen::OuterStride<>(outer));
}

bool row_major(const Tensor& t) { return t.strides()[2] == 1 || t.shape()[2] == 1; }

template <class T, int OA, int OB>
void bmm_t(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  const int64_t n = a.shape()[0], M = a.shape()[1], N = b.shape()[2];
  // C[rows] (+)= A[rows] @ B for matrix i
  auto gemm = [&](int64_t i, int64_t r0, int64_t rows) {
    OutMap<T> c(static_cast<T*>(out.raw_data()) + i * M * N + r0 * N, rows, N);
    const auto ar = matrix<T, OA>(a, i).middleRows(r0, rows);
    if (accumulate) c.noalias() += ar * matrix<T, OB>(b, i);
    else c.noalias() = ar * matrix<T, OB>(b, i);
  };
  const int64_t flops = M * N * a.shape()[2], threads = num_threads();
  if (n > 1 && (n >= 2 * threads || flops < 64 * 64 * 64)) {
    parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) gemm(i, 0, M);
    });
  } else if (threads > 1 && M >= 256 * threads && OA == Eigen::RowMajor) {
    for (int64_t i = 0; i < n; ++i)
      parallel_for(0, threads, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t r0 = M * t / threads, r1 = M * (t + 1) / threads;
          gemm(i, r0, r1 - r0);
        }
      });
  } else {
    for (int64_t i = 0; i < n; ++i) gemm(i, 0, M);
  }
}

template <class T>
void bmm_dispatch(const Tensor& a, const Tensor& b, const Tensor& out, bool acc) {
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  const bool ra = row_major(a), rb = row_major(b);
  if (ra && rb) bmm_t<T, R, R>(a, b, out, acc);
  else if (ra) bmm_t<T, R, C>(a, b, out, acc);
  else if (rb) bmm_t<T, C, R>(a, b, out, acc);
  else bmm_t<T, C, C>(a, b, out, acc);
}

}  // namespace

void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  if (a.dtype() == DType::F64) bmm_dispatch<double>(a, b, out, accumulate);
  else bmm_dispatch<float>(a, b, out, accumulate);
}

}  // namespace mb::cpu
