// CUDA fused causal attention, flash-style (tensor/cpu/attention.cpp is the CPU twin and the
// oracle). q (B, H, Tq, D), k and v (B, H, Tk, D), Tq <= Tk: query i sits at position
// Tk - Tq + i and sees keys 0 .. Tk - Tq + i. Every operand is a strided view whose last dim
// has stride 1 and whose dims 0-2 may have any strides (heads inside a packed (B, T, 3, H, D)
// tensor or its gradient, a KV cache read in place, a (B, T, H, D) output); lse (B, H, Tq) is
// contiguous, in the compute type (f32 for bf16). f32 computes in float, f64 in double, bf16
// storage in float. bf16 calls go first to the tensor-core kernels of attention_mma.cu, which
// take the shapes of training (more than 16 queries, D % 8 == 0, D <= 128); calls with at
// most 16 keys (the local model) go to attention_short.cu, a warp per sequence; these kernels
// are the rest (decoding, odd widths) and the oracle the gpu tests hold the others to.
//
// A block is 256 threads seen as 16 x 16: ty = tid / 16, tx = tid % 16. It works on BM x BN
// tiles of scores; thread (ty, tx) owns rows ty + 16·i (i < BM/16) and columns tx + 16·j
// (j < BN/16) of a tile, so a row's max and sum are shuffles among the 16 lanes of half a
// warp; of a (BM, D) accumulator it owns the same rows and the columns 16·W·jj + W·tx + w
// (runs of W, one 16-byte read of shared memory each when W·size = 16). Operands wait in
// shared memory in the compute type (bf16 is widened on the way in), kD wide (D rounded up
// to 16, 32, 64, 128 or 256, zero-filled), rows padded by 16 bytes so the 16-byte reads of 16
// different rows hit different banks.
//
//   forward:  a block per (query tile, batch-head, key split): key tiles in order with an online
//             softmax; tiles wholly in the future are skipped. When there are few blocks
//             (decoding, Tq = 1), the keys are split over blocks and a second kernel combines
//             the partial results, splits in order.
//   backward: Δ = rowsum(gout ∘ out) first; then a kernel over query tiles computes gq
//             (looping over key tiles) and one over key tiles computes gk and gv (looping over
//             query tiles). Each gradient element is written by one thread: no atomics, the
//             same bits every run. P = exp(S·scale - lse) is recomputed from the saved lse.
#include <algorithm>
#include <type_traits>

#include "cuda/attention.cuh"
#include "cuda/kernels.h"

namespace mb::cuda {
namespace {

constexpr int kAttnThreads = 256;  // 16 x 16

__device__ __forceinline__ int64_t min_of(int64_t a, int64_t b) { return a < b ? a : b; }

// read-only global load, widened to the compute type
template <class T> __device__ __forceinline__ acc_t<T> ldg(const T* p) { return __ldg(p); }
template <> __device__ __forceinline__ float ldg(const __nv_bfloat16* p) { return __bfloat162float(__ldg(p)); }

template <class A, int N> struct alignas(sizeof(A) * N) Vec {
  A v[N];
};
template <class A> constexpr int kVec = 16 / int(sizeof(A));  // elements in 16 bytes
// W: the run of accumulator columns a thread owns (a 16-byte vector when kD allows)
template <class A, int kD> constexpr int kRun = kVec<A> < kD / 16 ? kVec<A> : kD / 16;

template <class A> __device__ __forceinline__ A* shared_mem() {
  extern __shared__ __align__(16) unsigned char smem_[];
  return reinterpret_cast<A*>(smem_);
}

// Shared memory of each kernel for a tile shape (rows padded by 16 bytes), and the blocks an
// SM can hold for it (H100: 228 KB an SM, 1 KB of it reserved a block), which sets the
// register budget through __launch_bounds__.
template <class A, int kD, int BM, int BN> constexpr size_t smem_forward() {  // Q, K, V, P
  return size_t(BM * (kD + kVec<A>) + 2 * BN * (kD + kVec<A>) + BM * (BN + kVec<A>)) * sizeof(A);
}
template <class A, int kD, int BM, int BN> constexpr size_t smem_dq() {  // Q, dO, K, V, dS
  return size_t(2 * BM * (kD + kVec<A>) + 2 * BN * (kD + kVec<A>) + BM * (BN + kVec<A>)) * sizeof(A);
}
template <class A, int kD, int BM, int BN> constexpr size_t smem_dkv() {  // K, V, Q, dO, P/dS, lse, Δ
  return smem_dq<A, kD, BM, BN>() + size_t(2 * BN) * sizeof(A);
}
constexpr int blocks_per_sm(size_t smem) { return 2 * (smem + 1024) <= 228 * 1024 ? 2 : 1; }

// Max / sum over the 16 lanes (tx) that share a row: a fixed butterfly, the same bits in all.
template <class A> __device__ __forceinline__ A row_max16(A v) {
#pragma unroll
  for (int o = 8; o > 0; o /= 2) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <class A> __device__ __forceinline__ A row_sum16(A v) {
#pragma unroll
  for (int o = 8; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// s (R, LD) in shared memory = rows [0, R) of g (row stride `stride`, D wide) as the compute
// type; rows >= rows and columns >= D are zero. Thread t takes column t % kD of rows
// t / kD + k·(256 / kD), k < R·kD / 256; all its loads are issued before any store.
template <class T, int R, int kD, int LD>
__device__ __forceinline__ void load_tile(acc_t<T>* s, const T* g, int64_t stride, int64_t rows, int D) {
  constexpr int N = R * kD / kAttnThreads, kStep = kAttnThreads / kD;
  static_assert(N >= 1 && R * kD % kAttnThreads == 0 && kAttnThreads % kD == 0, "tile shape");
  const int col = int(threadIdx.x) % kD, row0 = int(threadIdx.x) / kD;
  const T* p = g + row0 * stride + col;
  acc_t<T> r[N];
#pragma unroll
  for (int k = 0; k < N; ++k, p += kStep * stride) r[k] = col < D && row0 + k * kStep < rows ? ldg(p) : acc_t<T>(0);
#pragma unroll
  for (int k = 0; k < N; ++k) s[(row0 + k * kStep) * LD + col] = r[k];
}

// Two tiles of the same rows at once (keys and values, queries and their gradients), so that
// the loads of both are in flight together.
template <class T, int R, int kD, int LD>
__device__ __forceinline__ void load_tiles(acc_t<T>* s1, const T* g1, int64_t stride1, acc_t<T>* s2, const T* g2,
                                           int64_t stride2, int64_t rows, int D) {
  constexpr int N = R * kD / kAttnThreads, kStep = kAttnThreads / kD;
  static_assert(N >= 1 && R * kD % kAttnThreads == 0 && kAttnThreads % kD == 0, "tile shape");
  const int col = int(threadIdx.x) % kD, row0 = int(threadIdx.x) / kD;
  const T* p1 = g1 + row0 * stride1 + col;
  const T* p2 = g2 + row0 * stride2 + col;
  acc_t<T> r1[N], r2[N];
#pragma unroll
  for (int k = 0; k < N; ++k, p1 += kStep * stride1, p2 += kStep * stride2) {
    const bool in = col < D && row0 + k * kStep < rows;
    r1[k] = in ? ldg(p1) : acc_t<T>(0);
    r2[k] = in ? ldg(p2) : acc_t<T>(0);
  }
#pragma unroll
  for (int k = 0; k < N; ++k) {
    s1[(row0 + k * kStep) * LD + col] = r1[k];
    s2[(row0 + k * kStep) * LD + col] = r2[k];
  }
}

// acc[i][j] = X[ty + 16i, :] · Y[tx + 16j, :] over kD (X, Y row-major in shared memory, pitch LD)
template <class A, int RM, int CN, int kD, int LD>
__device__ __forceinline__ void mma_nt(A (&acc)[RM][CN], const A* X, const A* Y, int ty, int tx) {
  constexpr int VW = kVec<A>;
#pragma unroll
  for (int i = 0; i < RM; ++i)
#pragma unroll
    for (int j = 0; j < CN; ++j) acc[i][j] = 0;
#pragma unroll 4
  for (int d = 0; d < kD; d += VW) {
    Vec<A, VW> x[RM], y[CN];
#pragma unroll
    for (int i = 0; i < RM; ++i) x[i] = *reinterpret_cast<const Vec<A, VW>*>(X + (ty + 16 * i) * LD + d);
#pragma unroll
    for (int j = 0; j < CN; ++j) y[j] = *reinterpret_cast<const Vec<A, VW>*>(Y + (tx + 16 * j) * LD + d);
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < CN; ++j)
#pragma unroll
        for (int e = 0; e < VW; ++e) acc[i][j] += x[i].v[e] * y[j].v[e];
  }
}

// acc (rows ty + 16i, the thread's kD/16 columns) += X (BM, K; pitch LX) · Y (K, kD; pitch LD)
template <class A, int RM, int K, int kD, int LX, int LD>
__device__ __forceinline__ void mma_nn(A (&acc)[RM][kD / 16], const A* X, const A* Y, int ty, int tx) {
  constexpr int VW = kVec<A>, W = kRun<A, kD>, NO = kD / (16 * W);
#pragma unroll 2
  for (int c = 0; c < K; c += VW) {
    Vec<A, VW> x[RM];
#pragma unroll
    for (int i = 0; i < RM; ++i) x[i] = *reinterpret_cast<const Vec<A, VW>*>(X + (ty + 16 * i) * LX + c);
#pragma unroll
    for (int e = 0; e < VW; ++e) {
      Vec<A, W> y[NO];
#pragma unroll
      for (int jj = 0; jj < NO; ++jj)
        y[jj] = *reinterpret_cast<const Vec<A, W>*>(Y + (c + e) * LD + 16 * W * jj + W * tx);
#pragma unroll
      for (int i = 0; i < RM; ++i)
#pragma unroll
        for (int jj = 0; jj < NO; ++jj)
#pragma unroll
          for (int w = 0; w < W; ++w) acc[i][jj * W + w] += x[i].v[e] * y[jj].v[w];
    }
  }
}

// Writes the thread's columns (< D) of accumulator row `a` into row p of a global matrix,
// times f.
template <class A, class T, int kD>
__device__ __forceinline__ void store_row(T* p, const A (&a)[kD / 16], A f, int D, int tx) {
  constexpr int W = kRun<A, kD>, NO = kD / (16 * W);
#pragma unroll
  for (int jj = 0; jj < NO; ++jj)
#pragma unroll
    for (int w = 0; w < W; ++w) {
      const int col = 16 * W * jj + W * tx + w;
      if (col < D) store(p + col, a[jj * W + w] * f);
    }
}

// ---------------------------------------------------------------------------------------------
// forward

template <class T> struct FwdArgs : Operands<T> {
  acc_t<T>* lse;  // f32 for bf16: a statistic, not an activation
  acc_t<T> scale;
  int64_t splits, split_len;  // keys [s·split_len, (s+1)·split_len) go to split s
  // splits > 1: unnormalised outputs (splits, BH, Tq, kD), maxes and sums (splits, BH, Tq)
  acc_t<T> *po, *pm, *pl;
};

// Block: (query tile, batch-head, key split); the tile index runs backwards so that the tiles
// with the most keys start first.
template <class T, int kD, int BM, int BN>
__global__ void __launch_bounds__(kAttnThreads, blocks_per_sm(smem_forward<acc_t<T>, kD, BM, BN>()))
    attention_forward_kernel(const FwdArgs<T> a) {
  using A = acc_t<T>;
  constexpr int VW = kVec<A>, LD = kD + VW, LP = BN + VW, RM = BM / 16, CN = BN / 16;
  A* Qs = shared_mem<A>();  // (BM, LD) the queries
  A* Ks = Qs + BM * LD;     // (BN, LD) a key tile
  A* Vs = Ks + BN * LD;     // (BN, LD) its values
  A* Ps = Vs + BN * LD;     // (BM, LP) probabilities
  const int ty = int(threadIdx.x) / 16, tx = int(threadIdx.x) % 16;
  const Dims n = a.n;
  const int64_t ntiles = (n.Tq + BM - 1) / BM;
  int64_t blk = blockIdx.x;
  const int64_t split = blk % a.splits;
  blk /= a.splits;
  const int64_t bh = blk % n.BH, i0 = (ntiles - 1 - blk / n.BH) * BM;
  const int64_t b = bh / n.H, h = bh % n.H, shift = n.Tk - n.Tq;
  const int64_t kbeg = split * a.split_len;
  const int64_t kend = min_of(min_of(n.Tk, shift + i0 + BM), kbeg + a.split_len);  // keys past it are masked for all rows
  const T* kp = at(a.k, a.kh, b, h, 0);
  const T* vp = at(a.v, a.vh, b, h, 0);
  load_tile<T, BM, kD, LD>(Qs, at(a.q, a.qh, b, h, i0), a.qh.st, n.Tq - i0, n.D);

  A o[RM][kD / 16], m[RM], l[RM];  // l: this thread's columns only, summed over the row at the end
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    m[i] = -inf_of<A>();
    l[i] = 0;
#pragma unroll
    for (int c = 0; c < kD / 16; ++c) o[i][c] = 0;
  }
  for (int64_t j0 = kbeg; j0 < kend; j0 += BN) {
    __syncthreads();  // the previous tile's P·V is done with Vs and Ps
    load_tiles<T, BN, kD, LD>(Ks, kp + j0 * a.kh.st, a.kh.st, Vs, vp + j0 * a.vh.st, a.vh.st, n.Tk - j0, n.D);
    __syncthreads();
    A s[RM][CN];
    mma_nt<A, RM, CN, kD, LD>(s, Qs, Ks, ty, tx);  // S = Q Kᵀ
#pragma unroll
    for (int i = 0; i < RM; ++i) {
      const int64_t last = shift + i0 + ty + 16 * i;  // the last key row i sees
      A mx = -inf_of<A>();
#pragma unroll
      for (int j = 0; j < CN; ++j) {
        s[i][j] = j0 + tx + 16 * j <= last ? s[i][j] * a.scale : -inf_of<A>();
        mx = fmax(mx, s[i][j]);
      }
      const A mnew = fmax(m[i], row_max16(mx));
      const A corr = mnew == -inf_of<A>() ? A(1) : exp_of(m[i] - mnew);  // exp(-inf) = 0 on the first tile
      A rs = 0;
#pragma unroll
      for (int j = 0; j < CN; ++j) {
        const A p = s[i][j] == -inf_of<A>() ? A(0) : exp_of(s[i][j] - mnew);
        rs += p;
        Ps[(ty + 16 * i) * LP + tx + 16 * j] = p;
      }
      l[i] = l[i] * corr + rs;
      m[i] = mnew;
#pragma unroll
      for (int c = 0; c < kD / 16; ++c) o[i][c] *= corr;
    }
    __syncthreads();  // Ps is complete
    mma_nn<A, RM, BN, kD, LP, LD>(o, Ps, Vs, ty, tx);  // O += P V
  }
  A lt[RM];
#pragma unroll
  for (int i = 0; i < RM; ++i) lt[i] = row_sum16(l[i]);
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int64_t gi = i0 + ty + 16 * i;
    if (gi >= n.Tq) continue;
    if (a.splits == 1) {
      store_row<A, T, kD>(at(a.o, a.oh, b, h, gi), o[i], A(1) / lt[i], n.D, tx);
      if (tx == 0) a.lse[bh * n.Tq + gi] = m[i] + log_of(lt[i]);
    } else {
      const int64_t r = (split * n.BH + bh) * n.Tq + gi;
      store_row<A, A, kD>(a.po + r * kD, o[i], A(1), n.D, tx);
      if (tx == 0) {
        a.pm[r] = m[i];
        a.pl[r] = lt[i];
      }
    }
  }
}

// out = Σ_s exp(m_s - M) o_s / Σ_s exp(m_s - M) l_s, lse = M + log(that sum), M = max_s m_s;
// one thread per output element, splits in order.
template <class T> __global__ void attention_combine_kernel(const FwdArgs<T> a, int kd) {
  using A = acc_t<T>;
  const Dims n = a.n;
  const int64_t total = n.BH * n.Tq * n.D;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t col = e % n.D, row = e / n.D, gi = row % n.Tq, bh = row / n.Tq;
    A M = -inf_of<A>();
    for (int64_t s = 0; s < a.splits; ++s) M = fmax(M, a.pm[s * n.BH * n.Tq + row]);
    A L = 0, O = 0;
    for (int64_t s = 0; s < a.splits; ++s) {
      const int64_t r = s * n.BH * n.Tq + row;
      if (a.pm[r] == -inf_of<A>()) continue;  // no key of this split is visible to the row
      const A f = exp_of(a.pm[r] - M);
      L += a.pl[r] * f;
      O += a.po[r * kd + col] * f;
    }
    store(at(a.o, a.oh, bh / n.H, bh % n.H, gi) + col, O / L);
    if (col == 0) a.lse[row] = M + log_of(L);
  }
}

// ---------------------------------------------------------------------------------------------
// backward

template <class T> struct BwdArgs : Operands<T> {
  const acc_t<T>* lse;
  acc_t<T> scale;
  const acc_t<T>* delta;  // (BH, Tq)
};

// delta[bh, i] = Σ_d gout·out, a warp per row (8 a block)
template <class T> __global__ void attention_delta_kernel(const BwdArgs<T> a, acc_t<T>* delta) {
  using A = acc_t<T>;
  const Dims n = a.n;
  const int64_t row = int64_t(blockIdx.x) * (kAttnThreads / 32) + threadIdx.x / 32;
  if (row >= n.BH * n.Tq) return;  // (the whole warp)
  const int lane = int(threadIdx.x % 32);
  const int64_t gi = row % n.Tq, bh = row / n.Tq, b = bh / n.H, h = bh % n.H;
  const T* o = at(a.out, a.oh, b, h, gi);
  const T* g = at(a.gout, a.goh, b, h, gi);
  A s = 0;
  for (int d = lane; d < n.D; d += 32) s += ldg(g + d) * ldg(o + d);
#pragma unroll
  for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
  if (lane == 0) delta[row] = s;
}

// gq for a tile of BM queries: over the key tiles it sees (BN keys each),
// P = exp(S·scale - lse), dS = P ∘ (dO Vᵀ - Δ) · scale, dQ += dS K.
template <class T, int kD, int BM, int BN>
__global__ void __launch_bounds__(kAttnThreads, blocks_per_sm(smem_dq<acc_t<T>, kD, BM, BN>()))
    attention_backward_dq_kernel(const BwdArgs<T> a) {
  using A = acc_t<T>;
  constexpr int VW = kVec<A>, LD = kD + VW, LP = BN + VW, RM = BM / 16, CN = BN / 16;
  A* Qs = shared_mem<A>();  // (BM, LD)
  A* dOs = Qs + BM * LD;    // (BM, LD)
  A* Ks = dOs + BM * LD;    // (BN, LD)
  A* Vs = Ks + BN * LD;     // (BN, LD)
  A* dSs = Vs + BN * LD;    // (BM, LP)
  const int ty = int(threadIdx.x) / 16, tx = int(threadIdx.x) % 16;
  const Dims n = a.n;
  const int64_t ntiles = (n.Tq + BM - 1) / BM, blk = blockIdx.x;
  const int64_t bh = blk % n.BH, i0 = (ntiles - 1 - blk / n.BH) * BM;
  const int64_t b = bh / n.H, h = bh % n.H, shift = n.Tk - n.Tq;
  load_tiles<T, BM, kD, LD>(Qs, at(a.q, a.qh, b, h, i0), a.qh.st, dOs, at(a.gout, a.goh, b, h, i0), a.goh.st,
                            n.Tq - i0, n.D);
  const T* kp = at(a.k, a.kh, b, h, 0);
  const T* vp = at(a.v, a.vh, b, h, 0);
  A L[RM], Dl[RM], dq[RM][kD / 16];
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int64_t gi = i0 + ty + 16 * i;
    L[i] = gi < n.Tq ? ldg(a.lse + bh * n.Tq + gi) : A(0);
    Dl[i] = gi < n.Tq ? a.delta[bh * n.Tq + gi] : A(0);
#pragma unroll
    for (int c = 0; c < kD / 16; ++c) dq[i][c] = 0;
  }
  const int64_t kend = min_of(n.Tk, shift + i0 + BM);
  for (int64_t j0 = 0; j0 < kend; j0 += BN) {
    __syncthreads();  // the previous tile's dS K is done with Ks and dSs
    load_tiles<T, BN, kD, LD>(Ks, kp + j0 * a.kh.st, a.kh.st, Vs, vp + j0 * a.vh.st, a.vh.st, n.Tk - j0, n.D);
    __syncthreads();
    A s[RM][CN], dp[RM][CN];
    mma_nt<A, RM, CN, kD, LD>(s, Qs, Ks, ty, tx);    // S = Q Kᵀ
    mma_nt<A, RM, CN, kD, LD>(dp, dOs, Vs, ty, tx);  // dP = dO Vᵀ
#pragma unroll
    for (int i = 0; i < RM; ++i) {
      const int64_t gi = i0 + ty + 16 * i;
#pragma unroll
      for (int j = 0; j < CN; ++j) {
        const bool seen = gi < n.Tq && j0 + tx + 16 * j <= shift + gi;
        const A p = seen ? exp_of(s[i][j] * a.scale - L[i]) : A(0);
        dSs[(ty + 16 * i) * LP + tx + 16 * j] = p * (dp[i][j] - Dl[i]) * a.scale;
      }
    }
    __syncthreads();
    mma_nn<A, RM, BN, kD, LP, LD>(dq, dSs, Ks, ty, tx);  // dQ += dS K
  }
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int64_t gi = i0 + ty + 16 * i;
    if (gi < n.Tq) store_row<A, T, kD>(at(a.gq, a.gqh, b, h, gi), dq[i], A(1), n.D, tx);
  }
}

// gk, gv for a tile of BM keys: over the query tiles that see it (BN queries each),
// Pᵀ = exp(Sᵀ·scale - lse), dV += Pᵀ dO, dSᵀ = Pᵀ ∘ (V dOᵀ - Δ) · scale, dK += dSᵀ Q.
template <class T, int kD, int BM, int BN>
__global__ void __launch_bounds__(kAttnThreads, blocks_per_sm(smem_dkv<acc_t<T>, kD, BM, BN>()))
    attention_backward_dkv_kernel(const BwdArgs<T> a) {
  using A = acc_t<T>;
  constexpr int VW = kVec<A>, LD = kD + VW, LP = BN + VW, RM = BM / 16, CN = BN / 16;
  A* Ks = shared_mem<A>();  // (BM, LD)
  A* Vs = Ks + BM * LD;     // (BM, LD)
  A* Qs = Vs + BM * LD;     // (BN, LD)
  A* dOs = Qs + BN * LD;    // (BN, LD)
  A* Ps = dOs + BN * LD;    // (BM, LP): Pᵀ, then dSᵀ
  A* Ls = Ps + BM * LP;     // (BN) lse of the query tile
  A* Ds = Ls + BN;          // (BN) Δ of the query tile
  const int ty = int(threadIdx.x) / 16, tx = int(threadIdx.x) % 16;
  const Dims n = a.n;
  const int64_t blk = blockIdx.x;
  const int64_t bh = blk % n.BH, j0 = blk / n.BH * BM;  // key tile 0 (most queries) first
  const int64_t b = bh / n.H, h = bh % n.H, shift = n.Tk - n.Tq;
  load_tiles<T, BM, kD, LD>(Ks, at(a.k, a.kh, b, h, j0), a.kh.st, Vs, at(a.v, a.vh, b, h, j0), a.vh.st, n.Tk - j0,
                            n.D);
  const T* qp = at(a.q, a.qh, b, h, 0);
  const T* gp = at(a.gout, a.goh, b, h, 0);
  A dk[RM][kD / 16], dv[RM][kD / 16];
#pragma unroll
  for (int i = 0; i < RM; ++i)
#pragma unroll
    for (int c = 0; c < kD / 16; ++c) dk[i][c] = dv[i][c] = 0;
  const int64_t ibeg = j0 > shift ? (j0 - shift) / BN * BN : 0;  // the first query tile that sees key j0
  for (int64_t i0 = ibeg; i0 < n.Tq; i0 += BN) {
    __syncthreads();  // the previous tile is done with Qs, dOs, Ps, Ls, Ds
    load_tiles<T, BN, kD, LD>(Qs, qp + i0 * a.qh.st, a.qh.st, dOs, gp + i0 * a.goh.st, a.goh.st, n.Tq - i0, n.D);
    if (int(threadIdx.x) < BN) {
      const int64_t gi = i0 + threadIdx.x;
      Ls[threadIdx.x] = gi < n.Tq ? ldg(a.lse + bh * n.Tq + gi) : A(0);
      Ds[threadIdx.x] = gi < n.Tq ? a.delta[bh * n.Tq + gi] : A(0);
    }
    __syncthreads();
    A s[RM][CN], ds[RM][CN];
    mma_nt<A, RM, CN, kD, LD>(s, Ks, Qs, ty, tx);    // Sᵀ = K Qᵀ
    mma_nt<A, RM, CN, kD, LD>(ds, Vs, dOs, ty, tx);  // dPᵀ = V dOᵀ
#pragma unroll
    for (int i = 0; i < RM; ++i) {
      const int64_t gj = j0 + ty + 16 * i;
#pragma unroll
      for (int j = 0; j < CN; ++j) {
        const int c = tx + 16 * j;
        const int64_t gi = i0 + c;
        const bool seen = gi < n.Tq && gj <= shift + gi;
        const A p = seen ? exp_of(s[i][j] * a.scale - Ls[c]) : A(0);
        Ps[(ty + 16 * i) * LP + c] = p;
        ds[i][j] = p * (ds[i][j] - Ds[c]) * a.scale;
      }
    }
    __syncthreads();
    mma_nn<A, RM, BN, kD, LP, LD>(dv, Ps, dOs, ty, tx);  // dV += Pᵀ dO
    __syncthreads();
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < CN; ++j) Ps[(ty + 16 * i) * LP + tx + 16 * j] = ds[i][j];
    __syncthreads();
    mma_nn<A, RM, BN, kD, LP, LD>(dk, Ps, Qs, ty, tx);  // dK += dSᵀ Q
  }
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    const int64_t gj = j0 + ty + 16 * i;
    if (gj >= n.Tk) continue;
    store_row<A, T, kD>(at(a.gk, a.gkh, b, h, gj), dk[i], A(1), n.D, tx);
    store_row<A, T, kD>(at(a.gv, a.gvh, b, h, gj), dv[i], A(1), n.D, tx);
  }
}

// ---------------------------------------------------------------------------------------------
// host side

// Tile sizes (BM x BN) of the main path, so that the shared memory stays under about 140 KB
// (forward <= 109 KB, backward <= 142 KB; an H100 has 227 KB a block, an A100 163 KB):
//   float:  kD <= 64: 64 x 64; 128: 64 x 32; 256: 32 x 32
//   double: kD <= 32: 64 x 64; 64: 64 x 32; 128: 32 x 32; 256: 16 x 16
// Short sequences (the forward with Tk <= 16, the backward with Tq <= 16) take 16 x 16 tiles;
// decoding (a forward with Tq <= 16) 16 x BN.
template <class A, int kD> struct Tiles {
  static constexpr bool kFloat = sizeof(A) == 4;
  static constexpr int BM = kFloat ? (kD <= 128 ? 64 : 32) : (kD <= 64 ? 64 : kD <= 128 ? 32 : 16);
  static constexpr int BN = kFloat ? (kD <= 64 ? 64 : 32) : (kD <= 32 ? 64 : kD <= 128 ? 32 : 16);
};

template <class A> constexpr DType acc_dtype() { return sizeof(A) == 8 ? DType::F64 : DType::F32; }

template <class T, int kD, int BM, int BN> void run_forward(FwdArgs<T> a) {
  using A = acc_t<T>;
  constexpr size_t smem = smem_forward<A, kD, BM, BN>();
  const Dims& n = a.n;
  const int64_t ntiles = (n.Tq + BM - 1) / BM, blocks = n.BH * ntiles, ktiles = (n.Tk + BN - 1) / BN;
  // Few blocks (decoding: Tq = 1): split the keys so that about 512 blocks run, at least 2 key
  // tiles each. The split depends on the shapes only, never on the device.
  a.splits = 1;
  a.split_len = ktiles * BN;
  if (blocks < 256 && ktiles >= 4) {
    const int64_t want = std::min<int64_t>((512 + blocks - 1) / blocks, ktiles / 2);
    const int64_t per = (ktiles + want - 1) / want;  // key tiles a split
    a.split_len = per * BN;
    a.splits = (ktiles + per - 1) / per;
  }
  Tensor part;
  if (a.splits > 1) {
    const int64_t rows = a.splits * n.BH * n.Tq;
    part = Tensor::empty({rows * (kD + 2)}, acc_dtype<A>(), Device::CUDA);
    a.po = ptr<A>(part);
    a.pm = a.po + rows * kD;
    a.pl = a.pm + rows;
  }
  auto kernel = attention_forward_kernel<T, kD, BM, BN>;
  static const bool once = (allow_smem(kernel, smem), true);
  (void)once;
  kernel<<<attention_grid(blocks * a.splits), kAttnThreads, smem, stream()>>>(a);
  MB_CUDA_LAUNCH_CHECK();
  if (a.splits > 1) {
    attention_combine_kernel<T><<<blocks_for(n.BH * n.Tq * n.D), kThreads, 0, stream()>>>(a, kD);
    MB_CUDA_LAUNCH_CHECK();
  }
}

template <class T, int kD, int BM, int BN> void run_backward(const BwdArgs<T>& a) {
  using A = acc_t<T>;
  constexpr size_t bytes_dq = smem_dq<A, kD, BM, BN>(), bytes_dkv = smem_dkv<A, kD, BM, BN>();
  const Dims& n = a.n;
  if (n.Tq > 0) {
    auto kernel = attention_backward_dq_kernel<T, kD, BM, BN>;
    static const bool once = (allow_smem(kernel, bytes_dq), true);
    (void)once;
    kernel<<<attention_grid(n.BH * ((n.Tq + BM - 1) / BM)), kAttnThreads, bytes_dq, stream()>>>(a);
    MB_CUDA_LAUNCH_CHECK();
  }
  if (n.Tk > 0) {  // (with Tq = 0 this writes zeros)
    auto kernel = attention_backward_dkv_kernel<T, kD, BM, BN>;
    static const bool once = (allow_smem(kernel, bytes_dkv), true);
    (void)once;
    kernel<<<attention_grid(n.BH * ((n.Tk + BM - 1) / BM)), kAttnThreads, bytes_dkv, stream()>>>(a);
    MB_CUDA_LAUNCH_CHECK();
  }
}

// Calls f(std::integral_constant<int, kD>) with kD the head width D rounded up to 16, 32, 64,
// 128 or 256.
template <class F> void visit_head_width(int64_t D, F&& f) {
  MB_CHECK(D <= 256, "attention: head width ", D, " is more than the CUDA kernels' 256");
  if (D <= 16) f(std::integral_constant<int, 16>{});
  else if (D <= 32) f(std::integral_constant<int, 32>{});
  else if (D <= 64) f(std::integral_constant<int, 64>{});
  else if (D <= 128) f(std::integral_constant<int, 128>{});
  else f(std::integral_constant<int, 256>{});
}

}  // namespace

unsigned attention_grid(int64_t blocks) {
  MB_CHECK(blocks <= int64_t(0x7fffffff), "attention: too many blocks (", blocks, ")");
  return unsigned(blocks);
}

void attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, const Tensor& out,
               const Tensor& lse) {
  const Dims n = dims_of(q, k);
  if (n.BH == 0 || n.Tq == 0 || attention_mma(q, k, v, scale, out, lse) || attention_short(q, k, v, scale, out, lse))
    return;
  visit_floating(q.dtype(), [&](auto z) {
    using T = decltype(z);
    using A = acc_t<T>;
    FwdArgs<T> a{};  // (no key splits until run_forward chooses them)
    set_forward<T>(a, q, k, v, out);
    a.lse = ptr<A>(lse);
    a.scale = A(scale);
    visit_head_width(n.D, [&](auto kd) {
      constexpr int kD = decltype(kd)::value;
      using Tl = Tiles<A, kD>;
      if (n.Tk <= 16) run_forward<T, kD, 16, 16>(a);
      else if (n.Tq <= 16) run_forward<T, kD, 16, Tl::BN>(a);
      else run_forward<T, kD, Tl::BM, Tl::BN>(a);
    });
  });
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                        const Tensor& gout, double scale, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  const Dims n = dims_of(q, k);
  if (n.BH == 0 || n.Tk == 0 || attention_mma_backward(q, k, v, out, lse, gout, scale, gq, gk, gv) ||
      attention_short_backward(q, k, v, out, lse, gout, scale, gq, gk, gv))
    return;
  visit_floating(q.dtype(), [&](auto z) {
    using T = decltype(z);
    using A = acc_t<T>;
    const Tensor delta = Tensor::empty({std::max<int64_t>(n.BH * n.Tq, 1)}, acc_dtype<A>(), Device::CUDA);
    BwdArgs<T> a{};
    set_forward<T>(a, q, k, v, out);
    set_gradients<T>(a, gout, gq, gk, gv);
    a.lse = ptr<A>(lse);
    a.scale = A(scale);
    a.delta = ptr<A>(delta);
    if (n.Tq > 0) {
      attention_delta_kernel<T>
          <<<attention_grid((n.BH * n.Tq + kAttnThreads / 32 - 1) / (kAttnThreads / 32)), kAttnThreads, 0, stream()>>>(
              a, ptr<A>(delta));
      MB_CUDA_LAUNCH_CHECK();
    }
    visit_head_width(n.D, [&](auto kd) {
      constexpr int kD = decltype(kd)::value;
      using Tl = Tiles<A, kD>;
      if (n.Tq <= 16) run_backward<T, kD, 16, 16>(a);
      else run_backward<T, kD, Tl::BM, Tl::BN>(a);
    });
  });
}

}  // namespace mb::cuda
