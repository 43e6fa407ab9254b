// Memory-bound ops: bytes moved per second (each input read once, each output written once).
//   build/bench/bench_ops [reps]       (JSON lines on stderr)
#include <cstdlib>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/denormals.h"
#include "tensor/parallel.h"

using namespace mb;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 9;
  NoGradGuard no_grad;
  const int64_t rows = 8192, cols = 1024;  // 32 MiB of f32 per tensor
  const Tensor x = Tensor::randn({rows, cols}, 1), y = Tensor::randn({rows, cols}, 2);
  const Tensor w = Tensor::randn({cols}, 3), bias = Tensor::randn({cols}, 4);
  const Tensor dst = Tensor::empty({rows, cols});
  // subnormal f32 (made while they are kept: with flushing on, 1e-39 would be stored as 0)
  set_flush_denormals(false);
  const Tensor subnormal = Tensor::full({rows, cols}, 1e-39);
  set_flush_denormals(true);
  auto with_subnormals = [&](bool flush) {
    set_flush_denormals(flush);
    (void)mul_scalar(subnormal, 0.5);
    set_flush_denormals(true);
  };
  const double mb = double(rows * cols) * 4;  // bytes of one tensor
  struct Case {
    const char* name;
    double bytes;
    std::function<void()> run;
  };
  const std::vector<Case> cases = {
      {"copy (contiguous)", 2 * mb, [&] { copy_(dst, x); }},
      {"copy (transposed read)", 2 * mb, [&] { copy_(reshape(dst, {cols, rows}), transpose(x, 0, 1)); }},
      {"add", 3 * mb, [&] { (void)add(x, y); }},
      {"add bias (broadcast row)", 2 * mb, [&] { (void)add(x, bias); }},
      {"mul_scalar", 2 * mb, [&] { (void)mul_scalar(x, 0.5); }},
      {"gelu", 2 * mb, [&] { (void)gelu(x); }},
      {"exp", 2 * mb, [&] { (void)exp(x); }},
      // what a subnormal costs this CPU (tensor/denormals.h): x86 takes an assist per operation
      {"mul_scalar of subnormals, kept", 2 * mb, [&] { with_subnormals(false); }},
      {"mul_scalar of subnormals, flushed", 2 * mb, [&] { with_subnormals(true); }},
      {"sum over rows", mb, [&] { (void)sum(x, {1}); }},
      // the read ceiling of decoding, whose step reads ~20 MB of weights and caches from L3
      {"sum of 16 MiB (an L3-sized read)", mb / 2, [&] { (void)sum(narrow(x, 0, 0, rows / 2)); }},
      {"softmax (rows of 1024)", 2 * mb, [&] { (void)softmax(x); }},
      {"layer_norm (rows of 1024)", 2 * mb, [&] { (void)layer_norm(x, w, bias); }},
  };
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Case& c : cases) {
      const double sec = bench::median_seconds(c.run, reps);
      bench::report("ops_f32", c.name, threads, sec, "GB/s", c.bytes / sec / 1e9);
    }
  }
}
