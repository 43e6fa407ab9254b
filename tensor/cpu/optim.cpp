// CPU optimizer kernels: the squared norm of the gradients and the fused AdamW update (one pass
// over p, g, m, v instead of a dozen elementwise ops and their temporaries).
#include <cmath>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

namespace {
constexpr int64_t kChunk = 1 << 14;  // fixed chunks: the sum does not depend on the thread count

// Pieces of at most kChunk elements of every tensor of a list, so that one parallel loop (one
// fork) covers the whole list: a model has dozens of parameters, most of them small, and a
// fork per parameter cost more than the arithmetic (1.8 ms of a 30 ms tiny step).
struct Piece {
  size_t tensor;
  int64_t begin, end;
};
template <class T> std::vector<Piece> pieces_of(const std::vector<T>& list, const Tensor& (*tensor)(const T&)) {
  std::vector<Piece> out;
  for (size_t k = 0; k < list.size(); ++k)
    for (int64_t at = 0, n = tensor(list[k]).numel(); at < n; at += kChunk) out.push_back({k, at, std::min(n, at + kChunk)});
  return out;
}
const Tensor& itself(const Tensor& t) { return t; }
const Tensor& param_of(const AdamWTensors& t) { return t.p; }

// (the simd reduction keeps one partial sum per vector lane, in the same order on every call:
// one chain of dependent adds made the gradient norm 1% of small's step)
template <class T> double sum_squares_of(const Tensor& x, int64_t begin, int64_t end) {
  const T* p = static_cast<const T*>(x.raw_data());
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = begin; i < end; ++i) s += double(p[i]) * double(p[i]);
  return s;
}

template <class T> void adamw_of(const AdamWTensors& t, const AdamWStep& s, int64_t begin, int64_t end) {
  T* pp = static_cast<T*>(t.p.raw_data());
  T* mp = static_cast<T*>(t.m.raw_data());
  T* vp = static_cast<T*>(t.v.raw_data());
  const T* gp = static_cast<const T*>(t.g.raw_data());
  const double wd = t.decay ? s.weight_decay : 0.0;
  const T decay = T(1 - s.lr * wd), scale = T(s.grad_scale), w1 = T(1 - s.beta1), b2 = T(s.beta2), w2 = T(1 - s.beta2),
          bc2s = T(s.bias_correction2_sqrt), eps = T(s.eps), step = T(s.lr / s.bias_correction1);
  // (no branch in the loop, so that it vectorises: a scale or decay of 1 multiplies exactly)
  for (int64_t i = begin; i < end; ++i) {
    const T gi = gp[i] * scale;
    const T pi = pp[i] * decay;
    mp[i] += w1 * (gi - mp[i]);  // lerp towards g, as PyTorch
    vp[i] = b2 * vp[i] + w2 * gi * gi;
    pp[i] = pi - step * (mp[i] / (std::sqrt(vp[i]) / bc2s + eps));
  }
}
}  // namespace

// Σ of the pieces' sums, in piece order: the same on any thread count.
double sum_squares(const std::vector<Tensor>& xs) {
  const std::vector<Piece> pieces = pieces_of(xs, itself);
  std::vector<double> part(pieces.size(), 0.0);
  parallel_for(0, int64_t(pieces.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      const Piece& q = pieces[size_t(c)];
      part[size_t(c)] = visit_float(xs[q.tensor].dtype(), [&](auto z) {
        return sum_squares_of<decltype(z)>(xs[q.tensor], q.begin, q.end);
      });
    }
  });
  double total = 0;
  for (double v : part) total += v;
  return total;
}

void adamw(const std::vector<AdamWTensors>& ts, const AdamWStep& s) {
  const std::vector<Piece> pieces = pieces_of(ts, param_of);
  parallel_for(0, int64_t(pieces.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      const Piece& q = pieces[size_t(c)];
      visit_float(ts[q.tensor].p.dtype(), [&](auto z) { adamw_of<decltype(z)>(ts[q.tensor], s, q.begin, q.end); });
    }
  });
}

}  // namespace mb::cpu
