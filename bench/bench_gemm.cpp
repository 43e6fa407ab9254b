// GEMM throughput of the matmul op, f32, square sizes and the skinny shapes the MEGABYTE presets
// use, with 1 and 2 threads, in the three layouts a training step multiplies in:
//   a·b    (gy·W: a Linear's input gradient; the squares),
//   a·bᵀ   (x·Wᵀ: a Linear's forward; b stored n x k, read transposed in place),
//   aᵀ·b   (gyᵀ·x: a Linear's weight gradient; a stored k x m).
// Then whole Linear layers at the step's shapes (`linear`): the forward (bias and ReLU
// included) and forward + backward (the three products, the ReLU's mask, the bias's sum), in
// GFLOP/s of their products: what the passes around the GEMMs cost.
//   build/bench/bench_gemm [reps] [layout]      layout: nn, nt, tn, linear or all (the default)
//                                               (JSON lines on stderr)
#include <cstdlib>
#include <string>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/parallel.h"

using namespace mb;

// rows x in -> out, with the ReLU or without: small's local (8192 rows of 128) and global
// (1024 of 256) layers, and tiny's (2048 of 64, 512 of 128)
void linear_layers(int reps) {
  struct Layer {
    int64_t rows, in, out;
    bool relu;
  };
  const std::vector<Layer> layers = {{8192, 128, 384, false}, {8192, 128, 512, true}, {8192, 512, 128, false},
                                     {1024, 256, 768, false}, {1024, 256, 1024, true}, {1024, 1024, 256, false},
                                     {2048, 64, 192, false},  {2048, 64, 256, true},   {512, 128, 384, false}};
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Layer& l : layers) {
      Tensor x = Tensor::randn({l.rows, l.in}, 1), w = Tensor::randn({l.out, l.in}, 2), b = Tensor::randn({l.out}, 3);
      const Tensor gy = Tensor::randn({l.rows, l.out}, 4);
      auto forward = [&] { return l.relu ? linear_relu(x, w, b) : linear(x, w, b); };
      const std::string what = std::to_string(l.rows) + "x" + std::to_string(l.in) + " -> " + std::to_string(l.out) +
                               (l.relu ? " relu" : "");
      const double flops = 2.0 * double(l.rows * l.in * l.out);
      double sec;
      {
        NoGradGuard no_grad;
        sec = bench::median_seconds([&] { (void)forward(); }, reps);
      }
      bench::report("linear", what + " fwd", threads, sec, "GFLOP/s", flops / sec / 1e9);
      x.set_requires_grad(true);
      w.set_requires_grad(true);
      b.set_requires_grad(true);
      sec = bench::median_seconds([&] { backward(forward(), gy); }, reps);
      bench::report("linear", what + " fwd+bwd", threads, sec, "GFLOP/s", 3 * flops / sec / 1e9);
      x.set_requires_grad(false);
      w.set_requires_grad(false);
      b.set_requires_grad(false);
    }
  }
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  const std::string only = argc > 2 ? argv[2] : "all";
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
  for (const std::string layout : {"nn", "nt", "tn"}) {
    if (only != "all" && only != layout) continue;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const auto& s : shapes) {
        if (layout != "nn" && s.m == s.n && s.m == s.k) continue;  // squares: a·b only
        const bool ta = layout == "tn", tb = layout == "nt";
        const Tensor a = ta ? transpose(Tensor::randn({s.k, s.m}, 1), 0, 1) : Tensor::randn({s.m, s.k}, 1);
        const Tensor b = tb ? transpose(Tensor::randn({s.n, s.k}, 2), 0, 1) : Tensor::randn({s.k, s.n}, 2);
        NoGradGuard no_grad;
        const double sec = bench::median_seconds([&] { (void)matmul(a, b); }, reps);
        const std::string what = std::to_string(s.m) + "x" + std::to_string(s.k) + (ta ? "ᵀ" : "") + " @ " +
                                 std::to_string(s.k) + "x" + std::to_string(s.n) + (tb ? "ᵀ" : "");
        bench::report("gemm_" + layout, what, threads, sec, "GFLOP/s", 2.0 * double(s.m * s.k * s.n) / sec / 1e9);
      }
    }
  }
  if (only == "all" || only == "linear") linear_layers(reps);
}
