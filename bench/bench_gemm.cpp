// GEMM throughput of the matmul op (Eigen's GEMM on the OpenMP pool), f32, square sizes and
// the skinny shapes the MEGABYTE presets use, with 1 and 2 threads.
//   build/bench/bench_gemm [reps]      (JSON lines on stderr)
#include <cstdlib>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/parallel.h"

using namespace mb;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  struct Shape3 {
    int64_t m, k, n;
  };
  // squares, then the products of a training step: tiny (local rows 2048 x width 64, global
  // 512 x 128) and small (local 8192 x 128, global 1024 x 256), forward (x·Wᵀ) and the weight
  // gradients (gyᵀ·x: M and N the widths, K the rows)
  const std::vector<Shape3> shapes = {{256, 256, 256},   {512, 512, 512},   {1024, 1024, 1024}, {2048, 2048, 2048},
                                      {8192, 128, 512},  {8192, 512, 128},  {2048, 256, 768},   {2048, 64, 192},
                                      {2048, 256, 64},   {192, 2048, 64},   {512, 128, 384},    {384, 512, 128},
                                      {8192, 128, 384},  {384, 8192, 128},  {1024, 256, 768},   {768, 1024, 256}};
  NoGradGuard no_grad;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const auto& s : shapes) {
      const Tensor a = Tensor::randn({s.m, s.k}, 1), b = Tensor::randn({s.k, s.n}, 2);
      const double sec = bench::median_seconds([&] { (void)matmul(a, b); }, reps);
      const std::string what = std::to_string(s.m) + "x" + std::to_string(s.k) + " @ " +
                               std::to_string(s.k) + "x" + std::to_string(s.n);
      bench::report("gemm_f32", what, threads, sec, "GFLOP/s", 2.0 * double(s.m * s.k * s.n) / sec / 1e9);
    }
  }
}
