#include "tensor/cpu/sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tensor/cpu/dot.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace mb::cpu {
namespace {

constexpr int64_t kKC = 256;  // K per packed slice
constexpr int64_t kNC = 512;  // columns of B per packed block: KC x NC floats = 512 KiB, in L2
constexpr int64_t kAPanels = 16;  // row panels of a transposed A packed at once

// A micro-kernel: C[0:MR, 0:NR] = Σ_k<kc A(i, k) · Bp[k·NR + j] + (add ? C : bias ? bias[j] : 0),
// then max(·, 0) if relu; Bp is an NR-column panel of B packed k-major (64-byte aligned), A
// either an MR-row panel packed k-major (A(i, k) = a[k·MR + i]) or rows of A read in place
// (A(i, k) = a[i·lda + k]).
using MicroKernel = void (*)(int64_t kc, const float* a, int64_t lda, const float* Bp, float* c, int64_t ldc, bool add,
                             const float* bias, bool relu);
struct Kernel {
  int64_t mr, nr;
  MicroKernel packed, rows;  // A packed, or A's rows read in place
};

// 6 x 16: 12 ymm accumulators, two loads of B and one broadcast of A per row and k
template <bool Packed>
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, int64_t lda, const float* Bp, float* c,
                                                    int64_t ldc, bool add, const float* bias, bool relu) {
  __m256 acc[6][2];
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, Bp += 16) {
    const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      const __m256 x = _mm256_broadcast_ss(Packed ? a + k * 6 + i : a + i * lda + k);
      acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) {
    float* r = c + i * ldc;
    if (add || bias) {
      const float* base = add ? r : bias;
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(base));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(base + 8));
    }
    if (relu) {  // x > 0 ? x : 0, as the ReLU kernel (+0 for -0 and NaN)
      const __m256 zero = _mm256_setzero_ps();
      acc[i][0] = _mm256_and_ps(acc[i][0], _mm256_cmp_ps(acc[i][0], zero, _CMP_GT_OQ));
      acc[i][1] = _mm256_and_ps(acc[i][1], _mm256_cmp_ps(acc[i][1], zero, _CMP_GT_OQ));
    }
    _mm256_storeu_ps(r, acc[i][0]);
    _mm256_storeu_ps(r + 8, acc[i][1]);
  }
}

// 12 x 32: 24 zmm accumulators
template <bool Packed>
__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const float* a, int64_t lda, const float* Bp, float* c,
                                                     int64_t ldc, bool add, const float* bias, bool relu) {
  __m512 acc[12][2];
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, Bp += 32) {
    const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) {
      const __m512 x = _mm512_set1_ps(Packed ? a[k * 12 + i] : a[i * lda + k]);
      acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) {
    float* r = c + i * ldc;
    if (add || bias) {
      const float* base = add ? r : bias;
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(base));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(base + 16));
    }
    if (relu) {
      const __m512 zero = _mm512_setzero_ps();
      acc[i][0] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc[i][0], zero, _CMP_GT_OQ), acc[i][0]);
      acc[i][1] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc[i][1], zero, _CMP_GT_OQ), acc[i][1]);
    }
    _mm512_storeu_ps(r, acc[i][0]);
    _mm512_storeu_ps(r + 16, acc[i][1]);
  }
}

Kernel kernel_for(GemmIsa isa) {
  if (isa == GemmIsa::avx512) return {12, 32, micro_avx512<true>, micro_avx512<false>};
  return {6, 16, micro_avx2<true>, micro_avx2<false>};
}

// N contiguous floats, N a constant: a few vector moves. Not memcpy (a library call per 48-128
// bytes costs more than the copy) and not a plain loop, which the compiler turns back into one.
template <int N> void copy_run(const float* src, float* dst) {
  int j = 0;
#ifdef __AVX__
  for (; j + 8 <= N; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(src + j));
#endif
  for (; j + 4 <= N; j += 4) _mm_storeu_ps(dst + j, _mm_loadu_ps(src + j));
  for (; j < N; ++j) dst[j] = src[j];
}

// Floats from one packed A panel to the next: 64 bytes past the panel, so that a group's
// panels (12 KiB apart, a multiple of 4 KiB) do not all fall into the same L1 set as they are
// written side by side.
int64_t a_panel_stride(int64_t mr, int64_t kc) { return mr * kc + 16; }

// sum[i] += Σ_k0<=k<k1 A(i, k) for A's M rows, k in order (the reduce kernel's order, in double):
// each row a chain of dependent adds, so all rows side by side
void add_row_sums(int64_t M, int64_t k0, int64_t k1, const float* a, int64_t rsa, int64_t csa, double* sum) {
  for (int64_t k = k0; k < k1; ++k) {
    const float* ak = a + k * csa;
    if (rsa == 1)  // (gyᵀ: a row of gy, read contiguously and vectorised)
      for (int64_t i = 0; i < M; ++i) sum[i] += double(ak[i]);
    else
      for (int64_t i = 0; i < M; ++i) sum[i] += double(ak[i * rsa]);
  }
}

// The panels of A[0:rows, 0:kc], mr rows each, packed k-major: panel p at Ap + p·a_panel_stride
// holds A(p·mr + i, k) at [k·mr + i], zero past `rows`. A column-major A (a transposed operand:
// a weight gradient's gyᵀ) is read along its columns, k by k across all the panels (one panel
// at a time, a float at a time, read 48 bytes from each of kc rows 2 KiB apart: a fifth of a
// weight gradient's time). With sums (column-major A only), also sums[i] += Σ_k A(i, k), k in
// order, in double: the epilogue's row sums, read as A is packed.
void pack_a(int64_t rows, int64_t kc, const float* a, int64_t rsa, int64_t csa, int64_t mr, float* Ap,
            double* sums = nullptr) {
  const int64_t panels = (rows + mr - 1) / mr, full = rows / mr;
  const int64_t stride = a_panel_stride(mr, kc);
  if (full < panels) std::memset(Ap + full * stride, 0, size_t(mr * kc) * sizeof(float));
  if (rsa != 1) {  // (the last, partial panel of a row-major A, or any other strides): row by row
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t k = 0; k < kc; ++k) Ap[i / mr * stride + k * mr + i % mr] = a[i * rsa + k * csa];
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t p = 0; p < panels; ++p) {
      const float* src = a + k * csa + p * mr;
      float* dst = Ap + p * stride + k * mr;
      if (p < full && mr == 12) copy_run<12>(src, dst);  // (a call through a pointer would not inline)
      else if (p < full && mr == 6) copy_run<6>(src, dst);
      else
        for (int64_t i = 0; i < rows - p * mr; ++i) dst[i] = src[i];
    }
    if (sums) add_row_sums(rows, k, k + 1, a, 1, csa, sums);
  }
}

#ifdef __AVX__
// dst[i·ldd + r] = src[r·ld + i] for an 8 x 8 block: the three shuffle stages of a transpose
void transpose8(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  for (int i = 0; i < 8; i += 2) {  // pairs of rows interleaved
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // then pairs of pairs
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {  // then the 128-bit halves
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}
#endif

// Panels of `nr` columns of B[k0:k0+kc, 0:n]: Bp[q·nr·kc + k·nr + j] = B(k0 + k, q·nr + j), zero
// past column n; panels [q0, q1).
void pack_b(int64_t n, int64_t kc, const float* b, int64_t rsb, int64_t csb, int64_t nr, float* Bp, int64_t q0,
            int64_t q1) {
  for (int64_t q = q0; q < q1; ++q) {
    float* dst = Bp + q * nr * kc;
    const int64_t cols = std::min(nr, n - q * nr);
    const float* src = b + q * nr * csb;
    if (csb == 1 && cols == nr) {
      for (int64_t k = 0; k < kc; ++k)
        if (nr == 32) copy_run<32>(src + k * rsb, dst + k * nr);
        else copy_run<16>(src + k * rsb, dst + k * nr);
    } else if (csb == 1) {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < nr; ++j) dst[k * nr + j] = j < cols ? src[k * rsb + j] : 0.0f;
    } else {
      int64_t k0 = 0;
#ifdef __AVX__
      if (rsb == 1 && cols == nr)  // a transposed B (x Wᵀ, attention's Q Kᵀ): 8 x 8 blocks in registers
        for (; k0 + 8 <= kc; k0 += 8)
          for (int64_t j = 0; j < nr; j += 8) transpose8(src + j * csb + k0, csb, dst + k0 * nr + j, nr);
#endif
      for (int64_t j = 0; j < nr; ++j)
        for (int64_t k = k0; k < kc; ++k) dst[k * nr + j] = j < cols ? src[j * csb + k * rsb] : 0.0f;
    }
  }
}

// floats of a packed B block: KC x NC at most, in whole panels of nr columns
size_t b_block_floats(int64_t N, int64_t K, int64_t nr) {
  return size_t((std::min(N, kNC) + nr - 1) / nr * nr * std::min(K, kKC));
}

// A packed block of one call (Slot 0: B, 1: A), 64-byte aligned and reused by the calling
// thread's next call.
template <int Slot> float* scratch(size_t floats) {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<float, Free> buf;
  thread_local size_t size = 0;
  if (size < floats) {
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buf.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    MB_CHECK(buf != nullptr, "out of memory: GEMM scratch needs ", bytes_text(double(bytes)));
    size = floats;
  }
  return buf.get();
}
float* scratch_b(size_t floats) { return scratch<0>(floats); }

GemmIsa detect() {
  GemmIsa best = GemmIsa::generic;
  if (gemm_isa_supported(GemmIsa::avx512)) best = GemmIsa::avx512;
  else if (gemm_isa_supported(GemmIsa::avx2)) best = GemmIsa::avx2;
  const char* want = std::getenv("MB_GEMM_ISA");
  if (!want || !*want) return best;
  for (GemmIsa isa : {GemmIsa::generic, GemmIsa::avx2, GemmIsa::avx512})
    if (std::string(want) == gemm_isa_name(isa)) {
      MB_CHECK(gemm_isa_supported(isa), "MB_GEMM_ISA=", want, ": this CPU cannot run it");
      return isa;
    }
  throw Error(cat("MB_GEMM_ISA must be generic, avx2 or avx512, got '", want, "'"));
}

}  // namespace

bool gemm_isa_supported(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::avx512: return __builtin_cpu_supports("avx512f");
    case GemmIsa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
  }
}

const char* gemm_isa_name(GemmIsa isa) {
  return isa == GemmIsa::avx512 ? "avx512" : isa == GemmIsa::avx2 ? "avx2" : "generic";
}

GemmIsa gemm_isa() {
  static const GemmIsa isa = detect();
  return isa;
}

namespace {

// A few rows of C (a vector times a matrix, as in decoding): B read once in place with no
// packing, which would cost more than the product; each element summed over k in order.
void sgemm_few_rows(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b,
                    int64_t rsb, int64_t csb, float* c, int64_t ldc, bool accumulate) {
  parallel_for(0, N, N * K * M >= (int64_t(1) << 21) ? 256 : N, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < M; ++i) {
      float* ci = c + i * ldc;
      const float* ai = a + i * rsa;
      if (csb == 1) {  // rows of B contiguous: C_i += a_ik · B_k, k in order
        if (!accumulate) std::fill(ci + j0, ci + j1, 0.0f);
        for (int64_t k = 0; k < K; ++k) {
          const float x = ai[k * csa];
          const float* bk = b + k * rsb;
#pragma omp simd
          for (int64_t j = j0; j < j1; ++j) ci[j] += x * bk[j];
        }
      } else if (csa == 1 && rsb == 1) {  // columns of B contiguous (a transposed weight)
        dot_rows(ai, b + j0 * csb, csb, K, j1 - j0, ci + j0, accumulate);
      } else {
        for (int64_t j = j0; j < j1; ++j) {
          float s = 0;
          for (int64_t k = 0; k < K; ++k) s += ai[k * csa] * b[j * csb + k * rsb];
          ci[j] = accumulate ? ci[j] + s : s;
        }
      }
    }
  });
}

// A tile of C that the micro-kernel computed into `edge` (NR wide) but that only partly lies
// in C: its valid part kept, with the micro-kernel's own epilogue.
void store_edge(const float* edge, int64_t NR, int64_t rows, int64_t cols, float* c, int64_t ldc, bool add,
                const float* bias, bool relu) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float v = edge[i * NR + j];
      if (add) v = v + c[i * ldc + j];
      else if (bias) v = v + bias[j];
      c[i * ldc + j] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
}

// Whether threads that split C by rows share one packed B. On AMD it helped (a Zen 5: small's step
// 4% faster; a packed panel passes from one core's cache to the other's quickly). On Intel it
// hurt (a Xeon of family 6, model 207: weight gradients 5-20% slower than with each thread
// packing all of B: a line from the other core's L2 crosses the mesh more slowly than B comes
// again from L3).
// MB_GEMM_SHARE_B=1|0 forces it (for tests and benchmarks).
bool share_packed_b() {
  static const bool share = [] {
    const char* v = std::getenv("MB_GEMM_SHARE_B");
    return v && *v ? std::string(v) == "1" : bool(__builtin_cpu_is("amd"));
  }();
  return share;
}

// Threads that share one packed B block (the caller's): each packs its share of the block's
// panels, and they meet before the block is read and again before it is packed anew. B is read
// from memory once rather than once per thread: for a weight gradient (B = x, K = all the rows)
// that made `small`'s step about 4% faster on a Zen 5.
struct Team {
  float* Bp;
  int t, nt;
};

// One thread's GEMM: the loops of the header's comment around the micro-kernel; with a team,
// this thread's rows of C against the team's B.
void sgemm_serial(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b,
                  int64_t rsb, int64_t csb, float* c, int64_t ldc, bool accumulate, const Kernel& kern,
                  const GemmEpilogue& ep, const Team* team = nullptr) {
  const int64_t MR = kern.mr, NR = kern.nr, mp = (M + MR - 1) / MR;
  // rows of A with unit stride are read in place (each row is used by NR columns at once
  // anyway); other layouts (a transposed operand) are packed kAPanels panels at a time (about
  // 192 KiB, in L2), just before their products
  const bool pack = csa != 1;
  std::vector<double> sums(ep.row_sums ? size_t(M) : 0);
  float* Bp = team ? team->Bp : scratch_b(b_block_floats(N, K, NR));
  float* Ap = scratch<1>(size_t(kAPanels * a_panel_stride(MR, std::min(K, kKC))));
  alignas(64) float edge[12 * 32];
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc), nq = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      const bool add = accumulate || pc > 0, relu = ep.relu && pc + kc == K;
      const float* bias = !add && ep.bias ? ep.bias + jc : nullptr;
      if (team) {
        const int64_t q0 = nq * team->t / team->nt, q1 = nq * (team->t + 1) / team->nt;  // this thread's panels
        pack_b(nc, kc, b + pc * rsb + jc * csb, rsb, csb, NR, Bp, q0, q1);
        team_barrier();
      } else {
        pack_b(nc, kc, b + pc * rsb + jc * csb, rsb, csb, NR, Bp, 0, nq);
      }
      // the row sums: as A is packed where it is packed along its columns, else in a pass of
      // their own while the slice is in L2
      const bool sum_packing = ep.row_sums && jc == 0 && pack && rsa == 1;
      if (ep.row_sums && jc == 0 && !sum_packing) add_row_sums(M, pc, pc + kc, a, rsa, csa, sums.data());
      // row panels outermost: their rows of A stay in L1 while the B block (in L2) is walked
      for (int64_t ir = 0; ir < mp; ++ir) {
        const int64_t i0 = ir * MR, rows = std::min(MR, M - i0);
        const bool packed = pack || rows < MR;  // (the last, partial row panel: packed, zero-padded)
        const float* ap = a + i0 * rsa + pc * csa;
        if (pack) {  // the group's first panel packs the group
          if (ir % kAPanels == 0)
            pack_a(std::min(kAPanels * MR, M - i0), kc, ap, rsa, csa, MR, Ap, sum_packing ? sums.data() + i0 : nullptr);
          ap = Ap + ir % kAPanels * a_panel_stride(MR, kc);
        } else if (packed) {
          pack_a(rows, kc, ap, rsa, csa, MR, Ap);
          ap = Ap;
        }
        const MicroKernel run = packed ? kern.packed : kern.rows;
        for (int64_t jr = 0; jr < nq; ++jr) {
          const int64_t j0 = jr * NR, cols = std::min(NR, nc - j0);
          const float* bp = Bp + jr * NR * kc;
          float* ct = c + i0 * ldc + jc + j0;
          const float* bj = bias ? bias + j0 : nullptr;
          if (rows == MR && cols == NR) {
            run(kc, ap, rsa, bp, ct, ldc, add, bj, relu);
          } else {  // a partial tile: computed whole, the valid part kept
            run(kc, ap, rsa, bp, edge, NR, false, nullptr, false);
            store_edge(edge, NR, rows, cols, ct, ldc, add, bj, relu);
          }
        }
      }
      if (team) team_barrier();  // (before the block is packed anew)
    }
  }
  for (int64_t i = 0; i < (ep.row_sums ? M : 0); ++i) ep.row_sums[i] = float(sums[size_t(i)]);
}

}  // namespace

void sgemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b, int64_t rsb,
           int64_t csb, float* c, int64_t ldc, bool accumulate, GemmIsa isa, const GemmEpilogue& ep) {
  if (M <= 0 || (N <= 0 && !ep.row_sums)) return;
  if (K <= 0 || M < 4 || N <= 0) {  // no micro-kernel: the epilogue as passes of its own
    if (ep.bias) {
      for (int64_t i = 0; i < M; ++i) std::copy(ep.bias, ep.bias + N, c + i * ldc);
      accumulate = true;
    }
    if (K > 0 && N > 0) sgemm_few_rows(M, N, K, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
    else if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
    for (int64_t i = 0; i < (ep.relu ? M : 0); ++i)
      for (int64_t j = 0; j < N; ++j) c[i * ldc + j] = c[i * ldc + j] > 0.0f ? c[i * ldc + j] : 0.0f;
    std::vector<double> sums(ep.row_sums ? size_t(M) : 0);
    if (ep.row_sums) add_row_sums(M, 0, K, a, rsa, csa, sums.data());
    for (int64_t i = 0; i < (ep.row_sums ? M : 0); ++i) ep.row_sums[i] = float(sums[size_t(i)]);
    return;
  }
  const Kernel kern = kernel_for(isa);
  const int64_t MR = kern.mr, NR = kern.nr, mp = (M + MR - 1) / MR, nq = (N + NR - 1) / NR;
  // Threads take whole row panels of C, or whole column panels where A is the smaller operand
  // (M < N: a weight gradient's gyᵀ against a wider x) or there are too few row panels; each
  // thread reads all of the other operand, so the larger one is read once. Each is an
  // independent GEMM with panels of its own: no barrier, one fork. The tile grid is the same as
  // one thread's, so every element of C is summed in the same order on any count.
  const int threads = num_threads();
  const bool big = 2.0 * double(M) * double(N) * double(K) >= 4e6;
  const bool by_columns = nq >= threads && (M < N || (mp < 2 * threads && mp < nq));
  if (!big || threads == 1) {
    sgemm_serial(M, N, K, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, kern, ep);
  } else if (!by_columns) {
    // whole row panels each; on AMD a B of more than 1 MiB (it would come from memory once per
    // thread) packed once between them, a smaller one by each (the barriers would cost more)
    const bool share = share_packed_b() && double(N) * double(K) * sizeof(float) > double(1 << 20);
    float* Bp = share ? scratch_b(b_block_floats(N, K, NR)) : nullptr;
    parallel_team(int(std::min<int64_t>(mp, threads)), [&](int t, int nt) {
      const int64_t r0 = std::min(mp * t / nt * MR, M), r1 = std::min(mp * (t + 1) / nt * MR, M);
      const GemmEpilogue mine{ep.bias, ep.relu, ep.row_sums ? ep.row_sums + r0 : nullptr};
      const Team team{Bp, t, nt};
      sgemm_serial(r1 - r0, N, K, a + r0 * rsa, rsa, csa, b, rsb, csb, c + r0 * ldc, ldc, accumulate, kern, mine,
                   share && nt > 1 ? &team : nullptr);
    });
  } else {
    parallel_for(0, nq, 1, [&](int64_t lo, int64_t hi) {
      const int64_t c0 = lo * NR, c1 = std::min(hi * NR, N);
      // every thread reads all of A; the first sums its rows
      const GemmEpilogue mine{ep.bias ? ep.bias + c0 : nullptr, ep.relu, c0 == 0 ? ep.row_sums : nullptr};
      sgemm_serial(M, c1 - c0, K, a, rsa, csa, b + c0 * csb, rsb, csb, c + c0, ldc, accumulate, kern, mine);
    });
  }
}

}  // namespace mb::cpu
