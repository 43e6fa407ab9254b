// CPU unfold/fold for causal 1-D convolution: the convolution itself is then one GEMM.
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

// x (B, T, C) -> cols (B, T, C·K), both contiguous
void unfold_causal(const Tensor& x, int64_t K, const Tensor& cols) {
  const int64_t B = x.shape()[0], T = x.shape()[1], C = x.shape()[2];
  visit_float(x.dtype(), [&](auto z) {
    using S = decltype(z);
    const S* xp = static_cast<const S*>(x.raw_data());
    S* cp = static_cast<S*>(cols.raw_data());
    parallel_for(0, B * T, std::max<int64_t>(1, 4096 / (C * K)), [&](int64_t lo, int64_t hi) {
      for (int64_t bt = lo; bt < hi; ++bt) {
        const int64_t t = bt % T;
        S* row = cp + bt * C * K;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t src = t - (K - 1) + k;
          for (int64_t c = 0; c < C; ++c) row[c * K + k] = src >= 0 ? xp[(bt - t + src) * C + c] : S(0);
        }
      }
    });
  });
}

// gcols (B, T, C·K) -> gx (B, T, C): gx[b, s, c] = Σ_k gcols[b, s + (K−1) − k, c·K + k]; each
// gx element is summed by one thread in a fixed order
void fold_causal(const Tensor& gcols, int64_t K, const Tensor& gx) {
  const int64_t B = gx.shape()[0], T = gx.shape()[1], C = gx.shape()[2];
  visit_float(gx.dtype(), [&](auto z) {
    using S = decltype(z);
    const S* gp = static_cast<const S*>(gcols.raw_data());
    S* op = static_cast<S*>(gx.raw_data());
    parallel_for(0, B * T, std::max<int64_t>(1, 4096 / (C * K)), [&](int64_t lo, int64_t hi) {
      for (int64_t bs = lo; bs < hi; ++bs) {
        const int64_t s = bs % T;
        for (int64_t c = 0; c < C; ++c) {
          S acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const int64_t t = s + (K - 1) - k;
            if (t < T) acc += gp[(bs - s + t) * C * K + c * K + k];
          }
          op[bs * C + c] = acc;
        }
      }
    });
  });
}

}  // namespace mb::cpu
