// CPU batched matmul. f32 goes through our packed GEMM (tensor/cpu/sgemm.h: AVX2 or AVX-512,
// chosen at run time; threaded inside each product, or one product per thread for a batch of
// many); f64 (gradchecks, fixtures) and f32 on a CPU with neither go through Eigen's GEMM, each
// operand mapped in place, row- or column-major by which stride is 1, so transposed views cost
// no copy. With Eigen, many small matrices run one per thread, a tall row-major one is split
// by rows between the threads (Eigen's own threading scales badly on skinny shapes), others are
// threaded by Eigen on the same OpenMP pool.
#include "tensor/cpu/eigen.h"

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"
#include "tensor/cpu/sgemm.h"

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

// f32: our packed GEMM (tensor/cpu/sgemm.h), threaded inside each product; a batch of many
// products runs one per thread instead.
void bmm_f32(const Tensor& a, const Tensor& b, const Tensor& out, bool acc) {
  const int64_t n = a.shape()[0], M = a.shape()[1], K = a.shape()[2], N = b.shape()[2];
  const float* pa = static_cast<const float*>(a.raw_data());
  const float* pb = static_cast<const float*>(b.raw_data());
  float* pc = static_cast<float*>(out.raw_data());
  auto one = [&](int64_t i) {
    sgemm(M, N, K, pa + i * a.strides()[0], a.strides()[1], a.strides()[2], pb + i * b.strides()[0], b.strides()[1],
          b.strides()[2], pc + i * M * N, N, acc);
  };
  if (n > 1 && (n >= 2 * num_threads() || M * N * K < 64 * 64 * 64)) {
    parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < n; ++i) one(i);
  }
}

}  // namespace

void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate) {
  if (a.dtype() == DType::F64) bmm_dispatch<double>(a, b, out, accumulate);
  else if (gemm_isa() == GemmIsa::generic) bmm_dispatch<float>(a, b, out, accumulate);
  else bmm_f32(a, b, out, accumulate);
}

// f32 on our GEMM: the bias, the ReLU and the bias gradient are the product's epilogue
// (tensor/cpu/sgemm.h), bitwise what the composed passes of linear_by_gemm give

// y = x·Wᵀ + b, max(·, 0) when relu: x (rows, in), w (out, in) read transposed in place, y (rows, out)
void linear(const Tensor& x, const Tensor& w, const Tensor& b, bool relu, const Tensor& y) {
  if (x.dtype() != DType::F32 || gemm_isa() == GemmIsa::generic) return linear_by_gemm(cpu_kernels(), x, w, b, relu, y);
  const GemmEpilogue ep{b.defined() ? static_cast<const float*>(b.raw_data()) : nullptr, relu, nullptr};
  sgemm(x.shape()[0], w.shape()[0], x.shape()[1], static_cast<const float*>(x.raw_data()), x.strides()[0],
        x.strides()[1], static_cast<const float*>(w.raw_data()), w.strides()[1], w.strides()[0],
        static_cast<float*>(y.raw_data()), y.strides()[0], false, gemm_isa(), ep);
}

// gw = gyᵀ·x (gy read transposed in place), gb = Σ_rows gy summed by the GEMM as it packs gyᵀ
void linear_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const Tensor& gb) {
  if (x.dtype() != DType::F32 || gemm_isa() == GemmIsa::generic)
    return linear_backward_weight_by_gemm(cpu_kernels(), x, gy, gw, gb);
  const GemmEpilogue ep{nullptr, false, gb.defined() ? static_cast<float*>(gb.raw_data()) : nullptr};
  sgemm(gy.shape()[1], x.shape()[1], x.shape()[0], static_cast<const float*>(gy.raw_data()), gy.strides()[1],
        gy.strides()[0], static_cast<const float*>(x.raw_data()), x.strides()[0], x.strides()[1],
        static_cast<float*>(gw.raw_data()), gw.strides()[0], false, gemm_isa(), ep);
}

}  // namespace mb::cpu
