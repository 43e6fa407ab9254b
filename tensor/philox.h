// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. Output block c of seed s is a pure function of (s, c), so element i
// of a random tensor can be computed by any thread on any device and always gets the same
// value. Usage in this project: element i of a tensor drawn at stream offset o uses block
// (o + i) and the first one (uniform) or two (normal, Box-Muller) words of it.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/elementwise_ops.h"  // MB_HD

namespace mb {

struct Philox4x32 {
  uint32_t c[4];
};

MB_HD Philox4x32 philox(uint64_t seed, uint64_t counter) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in the open interval (0, 1) from 53 random bits.
MB_HD double philox_uniform(uint64_t seed, uint64_t counter) {
  const Philox4x32 r = philox(seed, counter);
  const uint64_t bits = (uint64_t(r.c[0]) << 21) ^ uint64_t(r.c[1] >> 11);
  return (double(bits & ((uint64_t(1) << 53) - 1)) + 0.5) * (1.0 / 9007199254740992.0);
}

// Standard normal (Box-Muller on two 53-bit uniforms of the same block).
MB_HD double philox_normal(uint64_t seed, uint64_t counter) {
  const Philox4x32 r = philox(seed, counter);
  const uint64_t b1 = (uint64_t(r.c[0]) << 21) ^ uint64_t(r.c[1] >> 11);
  const uint64_t b2 = (uint64_t(r.c[2]) << 21) ^ uint64_t(r.c[3] >> 11);
  const double m = double((uint64_t(1) << 53) - 1);
  const double u1 = (double(b1 & ((uint64_t(1) << 53) - 1)) + 0.5) / (m + 1.0);
  const double u2 = double(b2 & ((uint64_t(1) << 53) - 1)) / m;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace mb
