// Fused causal attention: forward and forward + backward times at the shapes of the presets'
// global and local models (f32), with the FLOP rate of the causal half.
//   build/bench/bench_attention [reps] [only]      only: run the cases whose name contains it
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/parallel.h"

using namespace mb;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  struct Case {
    const char* name;
    int64_t B, T, H, D;
  };
  const std::vector<Case> cases = {{"small global (B4 K256 H4 D64)", 4, 256, 4, 64},
                                   {"small local (B*K 1024, P8, H4 D32)", 1024, 8, 4, 32},
                                   {"tiny global (B8 K64 H4 D32)", 8, 64, 4, 32},
                                   {"baseline T2048 (B4 H4 D64)", 4, 2048, 4, 64}};
  for (const Case& c : cases) {
    if (argc > 2 && !std::strstr(c.name, argv[2])) continue;
    Tensor qkv = Tensor::randn({c.B, c.T, 3 * c.H * c.D}, 1);
    qkv.set_requires_grad();
    const Tensor gy = Tensor::randn({c.B, c.T, c.H * c.D}, 2);
    // causal: about half of the T x T scores, 4·T²·D multiply-adds per head forward (QKᵀ, PV)
    const double flop = 2.0 * c.B * c.H * c.T * c.T * c.D;
    double fwd = 0;
    {
      NoGradGuard g;
      fwd = bench::median_seconds([&] { (void)attention_qkv(qkv, c.H); }, reps);
    }
    const double both = bench::median_seconds([&] { backward(attention_qkv(qkv, c.H), gy); }, reps);
    bench::report("attention", std::string(c.name) + " fwd", num_threads(), fwd, "GFLOP/s", flop / fwd / 1e9);
    bench::report("attention", std::string(c.name) + " fwd+bwd", num_threads(), both, "GFLOP/s", 3.5 * flop / both / 1e9);
  }
}
