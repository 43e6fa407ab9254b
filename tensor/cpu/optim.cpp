// CPU optimizer kernels: the squared norm of the gradients and the fused AdamW update (one pass
// over p, g, m, v instead of a dozen elementwise ops and their temporaries).
#include <cmath>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

namespace {
constexpr int64_t kChunk = 1 << 14;  // fixed chunks: the sum does not depend on the thread count

double sum_squares_one(const Tensor& x) {
  return visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* p = static_cast<const T*>(x.raw_data());
    const int64_t n = x.numel(), chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> part(static_cast<size_t>(chunks), 0.0);
    parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double s = 0;
        for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) s += double(p[i]) * double(p[i]);
        part[size_t(c)] = s;
      }
    });
    double total = 0;
    for (double s : part) total += s;
    return total;
  });
}

void adamw_one(const AdamWTensors& t, const AdamWStep& s) {
  visit_float(t.p.dtype(), [&](auto z) {
    using T = decltype(z);
    T* pp = static_cast<T*>(t.p.raw_data());
    T* mp = static_cast<T*>(t.m.raw_data());
    T* vp = static_cast<T*>(t.v.raw_data());
    const T* gp = static_cast<const T*>(t.g.raw_data());
    const double wd = t.decay ? s.weight_decay : 0.0;
    const T decay = T(1 - s.lr * wd), scale = T(s.grad_scale), w1 = T(1 - s.beta1), b2 = T(s.beta2),
            w2 = T(1 - s.beta2), bc2s = T(s.bias_correction2_sqrt), eps = T(s.eps), step = T(s.lr / s.bias_correction1);
    const bool clip = s.grad_scale != 1;
    parallel_for(0, t.p.numel(), kChunk, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T gi = clip ? gp[i] * scale : gp[i];
        const T pi = wd != 0 ? pp[i] * decay : pp[i];
        mp[i] += w1 * (gi - mp[i]);  // lerp towards g, as PyTorch
        vp[i] = b2 * vp[i] + w2 * gi * gi;
        pp[i] = pi - step * (mp[i] / (std::sqrt(vp[i]) / bc2s + eps));
      }
    });
  });
}
}  // namespace

double sum_squares(const std::vector<Tensor>& xs) {
  double total = 0;
  for (const Tensor& x : xs) total += sum_squares_one(x);
  return total;
}

void adamw(const std::vector<AdamWTensors>& ts, const AdamWStep& s) {
  for (const AdamWTensors& t : ts) adamw_one(t, s);
}

}  // namespace mb::cpu
