// Dot products of one vector with rows of a matrix: the matrix-vector products of decoding,
// where each weight is used once per step and the product is bound by reading the weights.
// Each sum runs in a fixed order (eight lanes, then a fixed tree), so a row's result does not
// depend on which thread computes it or on how many rows are taken at once. The matrix is f32,
// or bf16 (decoding with bf16 weights: half the bytes to read, each widened to f32 exactly, the
// arithmetic f32 as before).
#pragma once
#include <cstdint>
#include <cstring>

#include "tensor/dtype.h"

namespace mb::cpu {

// eight floats (GCC vector extensions: AVX2, or what the target has), loaded unaligned
using v8 = float __attribute__((vector_size(32)));
inline v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// eight bf16 widened to f32: each one's 16 bits become the top half of a float's
inline v8 load8(const bf16* p) {
  using u16x8 = uint16_t __attribute__((vector_size(16)));
  using u32x8 = uint32_t __attribute__((vector_size(32)));
  u16x8 h;
  std::memcpy(&h, p, sizeof h);
  const u32x8 u = __builtin_convertvector(h, u32x8) << 16;
  v8 v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
inline float widen(float w) { return w; }
inline float widen(bf16 w) { return float(w); }

// out[r] (+)= Σ_k x[k] · w[r·ldw + k] for r < 4: four dot products over contiguous rows at once,
// eight lanes each, summed in a fixed order.
template <class W> void dot4(const float* x, const W* w, int64_t ldw, int64_t K, float* out, bool accumulate) {
  v8 acc[4] = {};
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    const v8 xv = load8(x + k);
    for (int r = 0; r < 4; ++r) acc[r] += xv * load8(w + r * ldw + k);
  }
  // the four lane sums at once: pairwise halving, a tree of three vector adds
  using v4 = float __attribute__((vector_size(16)));
  v4 h[4];
  for (int r = 0; r < 4; ++r) h[r] = __builtin_shufflevector(acc[r], acc[r], 0, 1, 2, 3) +
                                     __builtin_shufflevector(acc[r], acc[r], 4, 5, 6, 7);
  const v4 lo01 = __builtin_shufflevector(h[0], h[1], 0, 4, 1, 5), hi01 = __builtin_shufflevector(h[0], h[1], 2, 6, 3, 7);
  const v4 lo23 = __builtin_shufflevector(h[2], h[3], 0, 4, 1, 5), hi23 = __builtin_shufflevector(h[2], h[3], 2, 6, 3, 7);
  const v4 s01 = lo01 + hi01, s23 = lo23 + hi23;  // (r0, r1, r0, r1) and (r2, r3, r2, r3) partials
  const v4 s = __builtin_shufflevector(s01, s23, 0, 1, 4, 5) + __builtin_shufflevector(s01, s23, 2, 3, 6, 7);
  for (int r = 0; r < 4; ++r) {
    float t = s[r];
    for (int64_t kk = k; kk < K; ++kk) t += x[kk] * widen(w[r * ldw + kk]);
    out[r] = accumulate ? out[r] + t : t;
  }
}

// out (+)= Σ_k x[k] · w[k]: one row summed exactly as dot4 sums each of its four, so a row gives
// the same bits whether it falls in a group of four or is left over
template <class W> void dot1(const float* x, const W* w, int64_t K, float* out, bool accumulate) {
  v8 acc = {};
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) acc += load8(x + k) * load8(w + k);
  const float h0 = acc[0] + acc[4], h1 = acc[1] + acc[5], h2 = acc[2] + acc[6], h3 = acc[3] + acc[7];
  float t = (h0 + h2) + (h1 + h3);  // dot4's tree, one lane of it
  for (; k < K; ++k) t += x[k] * widen(w[k]);
  *out = accumulate ? *out + t : t;
}

// out[r] (+)= Σ_k x[k] · w[r·ldw + k] for r < n: rows four at a time, the rest one by one
template <class W> void dot_rows(const float* x, const W* w, int64_t ldw, int64_t K, int64_t n, float* out, bool accumulate) {
  int64_t r = 0;
  for (; r + 4 <= n; r += 4) dot4(x, w + r * ldw, ldw, K, out + r, accumulate);
  for (; r < n; ++r) dot1(x, w + r * ldw, K, out + r, accumulate);
}

}  // namespace mb::cpu
