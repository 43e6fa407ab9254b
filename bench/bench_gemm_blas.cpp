// Eigen's GEMM (alone, and rows split across threads as tensor/cpu/matmul.cpp does) against
// OpenBLAS built for OpenMP (Debian's libopenblas0-openmp: the same libgomp pool as ours), f32,
// at the GEMM shapes of a `small` training step. Built only when that OpenBLAS is installed:
//   apt-get install libopenblas-openmp-dev && cmake -B build && build/bench/bench_gemm_blas
// (docs/cpu-performance.md explains why the project keeps Eigen.)
#include <cblas.h>
#include <omp.h>

#include <cstdio>

#include "bench/timing.h"
#include "tensor/cpu/eigen.h"

using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

int main() {
  struct Shape {
    int m, k, n;
    bool ta, tb;  // A given transposed (x^T for a weight gradient), B transposed (W^T of a Linear)
  };
  const Shape shapes[] = {{8192, 128, 384, 0, 1}, {8192, 128, 512, 0, 1}, {8192, 512, 128, 0, 1}, {1024, 256, 768, 0, 1},
                          {1024, 256, 1024, 0, 1}, {1024, 1024, 256, 0, 1}, {128, 8192, 512, 1, 0}, {512, 8192, 128, 1, 0},
                          {256, 1024, 1024, 1, 0}, {8192, 512, 128, 0, 0}, {512, 512, 512, 0, 0}, {2048, 2048, 2048, 0, 0}};
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    Eigen::setNbThreads(threads);
    openblas_set_num_threads(threads);
    for (const Shape& s : shapes) {
      const M a = M::Random(s.ta ? s.k : s.m, s.ta ? s.m : s.k), b = M::Random(s.tb ? s.n : s.k, s.tb ? s.k : s.n);
      M c(s.m, s.n);
      auto eigen_rows = [&](int lo, int hi) {  // C[lo:hi] = A[lo:hi] B, A and B as stored
        if (s.ta) c.middleRows(lo, hi - lo).noalias() = a.transpose().middleRows(lo, hi - lo) * b;
        else if (s.tb) c.middleRows(lo, hi - lo).noalias() = a.middleRows(lo, hi - lo) * b.transpose();
        else c.middleRows(lo, hi - lo).noalias() = a.middleRows(lo, hi - lo) * b;
      };
      const double te = mb::bench::median_seconds([&] { eigen_rows(0, s.m); }, 7);
      const double tr = mb::bench::median_seconds([&] {
#pragma omp parallel num_threads(threads)
        eigen_rows(s.m * omp_get_thread_num() / threads, s.m * (omp_get_thread_num() + 1) / threads);
      }, 7);
      const double tb = mb::bench::median_seconds([&] {
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.m, s.n, s.k,
                    1.f, a.data(), int(a.cols()), b.data(), int(b.cols()), 0.f, c.data(), int(c.cols()));
      }, 7);
      const double f = 2.0 * s.m * s.n * s.k / 1e9;
      std::printf("threads %d  %5d x %5d @ %5d %s%s  Eigen %6.1f  Eigen rows split %6.1f  OpenBLAS-openmp %6.1f GFLOP/s\n",
                  threads, s.m, s.k, s.n, s.ta ? "T" : "N", s.tb ? "T" : "N", f / te, f / tr, f / tb);
    }
  }
}
