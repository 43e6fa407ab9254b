// Causal attention in bf16 on tensor cores, FlashAttention-2's way (Dao 2023): every product
// is a warp's mma.sync m16n8k16 (cuda/mma.cuh) with f32 accumulation, the softmax runs online
// in the exp2 domain, and the probabilities go from the S accumulators straight into the A
// fragments of P·V. Statistics stay f32: lse (B, H, Tq) and Δ = rowsum(dO ∘ O).
// attention.cu's f32 kernels are the general path and this one's oracle (the gpu tests compare
// both with the CPU); this path takes bf16 with D % 8 == 0, D <= 128, Tq > 16 and operands
// whose rows start on 16 bytes (a packed qkv at these widths does), on sm_80 and later.
//
// A block is 4 warps; each warp owns 16 rows of a 64-row tile (queries in the forward and dQ
// kernels, keys in the dK/dV kernel) and walks the other side in tiles of BN (64, or 32 at
// kD = 128 to stay inside 255 registers). Tiles come in by cp.async (16 bytes a thread, no
// trip through registers; the forward double-buffers K and V, the next tile's copies running
// under this one's products) and wait in shared memory as bf16 rows padded by 16 bytes, so a
// fragment's 32 lanes read 32 different banks; where a product needs a tile's columns as its B
// operand (V in P·V, K in dS·K, dO and Q in the dK/dV kernel), ldmatrix.trans reads them from
// the rows: no transposed copies.
//   forward:  S = Q Kᵀ, online softmax, O += P V                       (2 products)
//   backward: kernel 1 over query tiles: Δ, S, dP = dO Vᵀ, dQ += dS K  (3 products)
//             kernel 2 over key tiles: Sᵀ, dPᵀ, dV += Pᵀ dO, dK += dSᵀ Q (4 products)
//   FlashAttention-2 does 5 products and adds dQ with atomics; 7 without atomics keeps every
//   gradient element written by one thread, in order: the same bits every run.
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "cuda/attention.cuh"
#include "cuda/kernels.h"
#include "cuda/mma.cuh"

namespace mb::cuda {
namespace {

using bf16 = __nv_bfloat16;
constexpr int kWarps = 4, kMmaThreads = 32 * kWarps, BM = 16 * kWarps;
constexpr float kLog2e = 1.4426950408889634f, kLn2 = 0.6931471805599453f;

struct alignas(16) Chunk {  // 8 bf16
  uint32_t w[4];
};

// Starts copying the R x kD tile of rows [0, R) of g (row stride st, D columns; D % 8 == 0)
// into shared memory s (row-major, pitch kD + 8), zeros past `rows` and D: 16 bytes a thread at
// a time by cp.async, consecutive threads along a row. The caller commits and waits.
template <int R, int kD> __device__ __forceinline__ void load_tile(bf16* s, const bf16* g, int64_t st, int64_t rows, int D) {
  constexpr int kChunks = kD / 8;
  for (int c = int(threadIdx.x); c < R * kChunks; c += kMmaThreads) {
    const int r = c / kChunks, col = c % kChunks * 8;
    const bool in = r < rows && col < D;
    cp_async16(s + r * (kD + 8) + col, in ? g + r * st + col : g, in);
  }
}

// A fragments of a warp's 16 rows over all kD columns of a row-major tile
template <int kD> __device__ __forceinline__ void load_rows(uint32_t (&f)[kD / 16][4], const bf16* s, int lane) {
#pragma unroll
  for (int ks = 0; ks < kD / 16; ++ks) load_a(f[ks], s, kD + 8, 16 * ks, lane);
}

// acc (16 x BN) = X (the warp's 16 rows, as A fragments) · Yᵀ, Y the BN x kD row-major tile
template <int kD, int BN>
__device__ __forceinline__ void mma_xyt(float (&acc)[BN / 8][4], const uint32_t (&x)[kD / 16][4], const bf16* Y,
                                        int lane) {
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
    acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0;
#pragma unroll
    for (int ks = 0; ks < kD / 16; ++ks) {
      uint32_t b[2];
      load_bt(b, Y + nt * 8 * (kD + 8), kD + 8, 16 * ks, lane);
      mma_16816(acc[nt], x[ks], b);
    }
  }
}

// acc (16 x kD) += P (16 x BN, accumulators) · Z, Z the BN x kD row-major tile (its B
// fragments by ldmatrix.trans)
template <int kD, int BN>
__device__ __forceinline__ void mma_pz(float (&acc)[kD / 8][4], const float (&p)[BN / 8][4], const bf16* Z, int lane) {
#pragma unroll
  for (int kk = 0; kk < BN / 16; ++kk) {
    uint32_t a[4];
    acc_to_a(a, p[2 * kk], p[2 * kk + 1]);
#pragma unroll
    for (int nd = 0; nd < kD / 8; ++nd) {
      uint32_t b[2];
      load_b(b, Z, kD + 8, 16 * kk, 8 * nd, lane);
      mma_16816(acc[nd], a, b);
    }
  }
}

// Rows g and g + 8 of a warp's (16, kD) accumulator into global rows p0 and p1 (null: skip),
// times f0, f1; columns < D.
template <int kD>
__device__ __forceinline__ void store_rows(bf16* p0, bf16* p1, const float (&acc)[kD / 8][4], float f0, float f1, int D,
                                           int lane) {
#pragma unroll
  for (int nd = 0; nd < kD / 8; ++nd) {
    const int col = nd * 8 + 2 * (lane % 4);
    if (col >= D) continue;
    if (p0) *reinterpret_cast<uint32_t*>(p0 + col) = pack_bf16(acc[nd][0] * f0, acc[nd][1] * f0);
    if (p1) *reinterpret_cast<uint32_t*>(p1 + col) = pack_bf16(acc[nd][2] * f1, acc[nd][3] * f1);
  }
}

template <int N> __device__ __forceinline__ void zero(float (&acc)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0;
}

__device__ __forceinline__ float quad_max(float v) {  // over the 4 lanes that share a row
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

__device__ __forceinline__ bf16* shared_bf16() {
  extern __shared__ __align__(16) unsigned char smem_[];
  return reinterpret_cast<bf16*>(smem_);
}

struct Args : Operands<bf16> {
  float *lse, *delta;
  float scale, scale_log2;  // scale·log2(e): scores in the exp2 domain
};

// Block (query tile, batch-head), the tiles with the most keys first.
template <int kD, int BN> constexpr size_t smem_forward() {  // Q, then two buffers of K and V
  return size_t(BM * (kD + 8) + 4 * BN * (kD + 8)) * sizeof(bf16);
}
template <int kD, int BN> __global__ void __launch_bounds__(kMmaThreads) attention_mma_forward_kernel(const Args a) {
  bf16* Qs = shared_bf16();  // (BM, kD + 8)
  bf16* KV = Qs + BM * (kD + 8);  // buffer u: K (BN, kD + 8) at KV + 2u·BN·(kD + 8), V after it
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const Dims n = a.n;
  const int64_t ntiles = (n.Tq + BM - 1) / BM, blk = blockIdx.x;
  const int64_t bh = blk % n.BH, i0 = (ntiles - 1 - blk / n.BH) * BM, b = bh / n.H, h = bh % n.H;
  const int64_t shift = n.Tk - n.Tq, row0 = i0 + 16 * warp + lane / 4;  // rows row0, row0 + 8
  const int64_t kend = min(n.Tk, shift + i0 + BM);
  // tile j0's K and V into buffer u (one cp.async group)
  auto fetch = [&](int64_t j0, int u) {
    bf16* Ks = KV + 2 * u * BN * (kD + 8);
    load_tile<BN, kD>(Ks, at(a.k, a.kh, b, h, j0), a.kh.st, n.Tk - j0, n.D);
    load_tile<BN, kD>(Ks + BN * (kD + 8), at(a.v, a.vh, b, h, j0), a.vh.st, n.Tk - j0, n.D);
    cp_async_commit();
  };
  load_tile<BM, kD>(Qs, at(a.q, a.qh, b, h, i0), a.qh.st, n.Tq - i0, n.D);
  cp_async_commit();
  fetch(0, 0);
  cp_async_wait<1>();  // Q is in
  __syncthreads();
  uint32_t qf[kD / 16][4];
  load_rows<kD>(qf, Qs + 16 * warp * (kD + 8), lane);
  float o[kD / 8][4], m[2] = {-CUDART_INF_F, -CUDART_INF_F}, l[2] = {0, 0};
  zero(o);
  for (int64_t j0 = 0, u = 0; j0 < kend; j0 += BN, u ^= 1) {
    // double buffering: the next tile's copies run while this one is multiplied
    if (j0 + BN < kend) {
      fetch(j0 + BN, int(u ^ 1));
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();  // tile j0 is in buffer u for every thread
    const bf16* Ks = KV + 2 * u * BN * (kD + 8);
    const bf16* Vs = Ks + BN * (kD + 8);
    float s[BN / 8][4];
    mma_xyt<kD, BN>(s, qf, Ks, lane);  // S = Q Kᵀ
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t last = shift + row0 + 8 * r;  // the last key the row sees
      float mx = -CUDART_INF_F;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[nt][2 * r + e];
          x = j0 + nt * 8 + 2 * (lane % 4) + e <= last ? x * a.scale_log2 : -CUDART_INF_F;
          mx = fmaxf(mx, x);
        }
      const float mnew = fmaxf(m[r], quad_max(mx));
      const float corr = mnew == -CUDART_INF_F ? 1.0f : exp2f(m[r] - mnew);
      float rs = 0;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[nt][2 * r + e];
          x = x == -CUDART_INF_F ? 0.0f : exp2f(x - mnew);
          rs += x;
        }
      l[r] = l[r] * corr + rs;  // this lane's columns; summed over the row at the end
      m[r] = mnew;
#pragma unroll
      for (int nd = 0; nd < kD / 8; ++nd) {
        o[nd][2 * r] *= corr;
        o[nd][2 * r + 1] *= corr;
      }
    }
    mma_pz<kD, BN>(o, s, Vs, lane);  // O += P V
    __syncthreads();  // buffer u is used up before the next iteration's copies refill it
  }
  const float l0 = quad_sum(l[0]), l1 = quad_sum(l[1]);
  const bool in0 = row0 < n.Tq, in1 = row0 + 8 < n.Tq;
  store_rows<kD>(in0 ? at(a.o, a.oh, b, h, row0) : nullptr, in1 ? at(a.o, a.oh, b, h, row0 + 8) : nullptr, o,
                 1.0f / l0, 1.0f / l1, n.D, lane);
  if (lane % 4 == 0) {
    if (in0) a.lse[bh * n.Tq + row0] = (m[0] + log2f(l0)) * kLn2;
    if (in1) a.lse[bh * n.Tq + row0 + 8] = (m[1] + log2f(l1)) * kLn2;
  }
}

// The shared memory of a backward kernel: two tiles of R1 rows (the block's own side), two of
// R2 rows (the side it walks), pitch kD + 8, then lse·log2e and Δ of NS rows.
struct BwdSmem {
  bf16 *own0, *own1, *walk0, *walk1;
  float *lse2, *delta;
};
template <int kD> constexpr size_t smem_backward(int R1, int R2, int NS) {
  return size_t(2 * R1 * (kD + 8) + 2 * R2 * (kD + 8)) * sizeof(bf16) + 2 * size_t(NS) * sizeof(float);
}
template <int kD> __device__ __forceinline__ BwdSmem carve_backward(int R1, int R2, int NS) {
  BwdSmem m;
  m.own0 = shared_bf16();
  m.own1 = m.own0 + R1 * (kD + 8);
  m.walk0 = m.own1 + R1 * (kD + 8);
  m.walk1 = m.walk0 + R2 * (kD + 8);
  m.lse2 = reinterpret_cast<float*>(m.walk1 + R2 * (kD + 8));
  m.delta = m.lse2 + NS;
  return m;
}

// dQ for a tile of BM queries (and Δ = rowsum(dO ∘ O), which kernel 2 reads): over the key
// tiles the queries see, P = exp2(S·scale·log2e - lse·log2e), dS = P ∘ (dO Vᵀ - Δ) · scale,
// dQ += dS K.
template <int kD, int BN> constexpr size_t smem_dq() { return smem_backward<kD>(BM, BN, BM); }
template <int kD, int BN> __global__ void __launch_bounds__(kMmaThreads) attention_mma_dq_kernel(const Args a) {
  const BwdSmem sm = carve_backward<kD>(BM, BN, BM);
  bf16 *Qs = sm.own0, *dOs = sm.own1, *Ks = sm.walk0, *Vs = sm.walk1;  // (BM | BN, kD + 8)
  float *Ls = sm.lse2, *Ds = sm.delta;                                  // (BM)
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const Dims n = a.n;
  const int64_t ntiles = (n.Tq + BM - 1) / BM, blk = blockIdx.x;
  const int64_t bh = blk % n.BH, i0 = (ntiles - 1 - blk / n.BH) * BM, b = bh / n.H, h = bh % n.H;
  const int64_t shift = n.Tk - n.Tq, row0 = i0 + 16 * warp + lane / 4;
  load_tile<BM, kD>(Qs, at(a.q, a.qh, b, h, i0), a.qh.st, n.Tq - i0, n.D);
  load_tile<BM, kD>(dOs, at(a.gout, a.goh, b, h, i0), a.goh.st, n.Tq - i0, n.D);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  {  // Δ of row r = tid / 2 (BM = kMmaThreads / 2), each of a pair of threads taking half the columns
    const int r = int(threadIdx.x) / 2, half = int(threadIdx.x) % 2;
    const int64_t gi = i0 + r;
    float d = 0;
    if (gi < n.Tq) {
      const bf16* op = at(a.out, a.oh, b, h, gi);
      for (int c = half * (kD / 2); c < (half + 1) * (kD / 2) && c < n.D; ++c)
        d += __bfloat162float(op[c]) * __bfloat162float(dOs[r * (kD + 8) + c]);
    }
    d += __shfl_xor_sync(0xffffffffu, d, 1);
    if (half == 0) {
      Ds[r] = d;
      Ls[r] = gi < n.Tq ? a.lse[bh * n.Tq + gi] * kLog2e : 0.0f;
      if (gi < n.Tq) a.delta[bh * n.Tq + gi] = d;
    }
  }
  __syncthreads();
  uint32_t qf[kD / 16][4], df[kD / 16][4];
  load_rows<kD>(qf, Qs + 16 * warp * (kD + 8), lane);
  load_rows<kD>(df, dOs + 16 * warp * (kD + 8), lane);
  const float L[2] = {Ls[16 * warp + lane / 4], Ls[16 * warp + lane / 4 + 8]};
  const float Dl[2] = {Ds[16 * warp + lane / 4], Ds[16 * warp + lane / 4 + 8]};
  float dq[kD / 8][4];
  zero(dq);
  const int64_t kend = min(n.Tk, shift + i0 + BM);
  for (int64_t j0 = 0; j0 < kend; j0 += BN) {
    __syncthreads();  // the previous tile is done with Ks, Vs
    load_tile<BN, kD>(Ks, at(a.k, a.kh, b, h, j0), a.kh.st, n.Tk - j0, n.D);
    load_tile<BN, kD>(Vs, at(a.v, a.vh, b, h, j0), a.vh.st, n.Tk - j0, n.D);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    float s[BN / 8][4], dp[BN / 8][4];
    mma_xyt<kD, BN>(s, qf, Ks, lane);   // S = Q Kᵀ
    mma_xyt<kD, BN>(dp, df, Vs, lane);  // dP = dO Vᵀ
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = i / 2;
        const int64_t gi = row0 + 8 * r, col = j0 + nt * 8 + 2 * (lane % 4) + i % 2;
        const float p = gi < n.Tq && col <= shift + gi ? exp2f(s[nt][i] * a.scale_log2 - L[r]) : 0.0f;
        s[nt][i] = p * (dp[nt][i] - Dl[r]) * a.scale;  // dS
      }
    mma_pz<kD, BN>(dq, s, Ks, lane);  // dQ += dS K
  }
  store_rows<kD>(row0 < n.Tq ? at(a.gq, a.gqh, b, h, row0) : nullptr,
                 row0 + 8 < n.Tq ? at(a.gq, a.gqh, b, h, row0 + 8) : nullptr, dq, 1.0f, 1.0f, n.D, lane);
}

// dK, dV for a tile of BM keys: over the query tiles that see them, Pᵀ = exp2(Sᵀ·scale·log2e -
// lse·log2e), dV += Pᵀ dO, dSᵀ = Pᵀ ∘ (V dOᵀ - Δ) · scale, dK += dSᵀ Q.
template <int kD, int BN> constexpr size_t smem_dkv() { return smem_backward<kD>(BM, BN, BN); }
template <int kD, int BN> __global__ void __launch_bounds__(kMmaThreads) attention_mma_dkv_kernel(const Args a) {
  const BwdSmem sm = carve_backward<kD>(BM, BN, BN);
  bf16 *Ks = sm.own0, *Vs = sm.own1, *Qs = sm.walk0, *dOs = sm.walk1;  // (BM | BN, kD + 8)
  float *Ls = sm.lse2, *Ds = sm.delta;  // (BN) of the query tile
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const Dims n = a.n;
  const int64_t blk = blockIdx.x, bh = blk % n.BH, j0 = blk / n.BH * BM, b = bh / n.H, h = bh % n.H;
  const int64_t shift = n.Tk - n.Tq, key0 = j0 + 16 * warp + lane / 4;  // keys key0, key0 + 8
  load_tile<BM, kD>(Ks, at(a.k, a.kh, b, h, j0), a.kh.st, n.Tk - j0, n.D);
  load_tile<BM, kD>(Vs, at(a.v, a.vh, b, h, j0), a.vh.st, n.Tk - j0, n.D);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  uint32_t kf[kD / 16][4], vf[kD / 16][4];
  load_rows<kD>(kf, Ks + 16 * warp * (kD + 8), lane);
  load_rows<kD>(vf, Vs + 16 * warp * (kD + 8), lane);
  float dk[kD / 8][4], dv[kD / 8][4];
  zero(dk);
  zero(dv);
  const int64_t ibeg = j0 > shift ? (j0 - shift) / BN * BN : 0;  // the first query tile that sees key j0
  for (int64_t i0 = ibeg; i0 < n.Tq; i0 += BN) {
    __syncthreads();  // the previous tile is done with Qs, dOs, Ls, Ds
    load_tile<BN, kD>(Qs, at(a.q, a.qh, b, h, i0), a.qh.st, n.Tq - i0, n.D);
    load_tile<BN, kD>(dOs, at(a.gout, a.goh, b, h, i0), a.goh.st, n.Tq - i0, n.D);
    cp_async_commit();
    if (int(threadIdx.x) < BN) {
      const int64_t gi = i0 + threadIdx.x;
      Ls[threadIdx.x] = gi < n.Tq ? a.lse[bh * n.Tq + gi] * kLog2e : 0.0f;
      Ds[threadIdx.x] = gi < n.Tq ? a.delta[bh * n.Tq + gi] : 0.0f;
    }
    cp_async_wait<0>();
    __syncthreads();
    float s[BN / 8][4], dp[BN / 8][4];
    mma_xyt<kD, BN>(s, kf, Qs, lane);    // Sᵀ = K Qᵀ
    mma_xyt<kD, BN>(dp, vf, dOs, lane);  // dPᵀ = V dOᵀ
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int c = nt * 8 + 2 * (lane % 4) + i % 2;
        const int64_t gi = i0 + c, key = key0 + 8 * (i / 2);
        const float p = gi < n.Tq && key <= shift + gi ? exp2f(s[nt][i] * a.scale_log2 - Ls[c]) : 0.0f;
        s[nt][i] = p;
        dp[nt][i] = p * (dp[nt][i] - Ds[c]) * a.scale;  // dSᵀ
      }
    mma_pz<kD, BN>(dv, s, dOs, lane);  // dV += Pᵀ dO
    mma_pz<kD, BN>(dk, dp, Qs, lane);  // dK += dSᵀ Q
  }
  const bool in0 = key0 < n.Tk, in1 = key0 + 8 < n.Tk;
  store_rows<kD>(in0 ? at(a.gk, a.gkh, b, h, key0) : nullptr, in1 ? at(a.gk, a.gkh, b, h, key0 + 8) : nullptr, dk, 1.0f,
                 1.0f, n.D, lane);
  store_rows<kD>(in0 ? at(a.gv, a.gvh, b, h, key0) : nullptr, in1 ? at(a.gv, a.gvh, b, h, key0 + 8) : nullptr, dv, 1.0f,
                 1.0f, n.D, lane);
}

// ---------------------------------------------------------------------------------------------
// host side

// Whether this path takes the call: bf16, head width a multiple of 8 up to 128, more than 16
// queries (decoding keeps the general kernels' key splits), every row of every operand on 16
// bytes, a device with bf16 tensor cores; MB_ATTENTION_MMA=0 turns the path off (to compare).
bool suits(const Dims& n, const std::initializer_list<const Tensor*>& ops) {
  static const bool enabled = [] {
    const char* e = std::getenv("MB_ATTENTION_MMA");
    return !(e && std::strcmp(e, "0") == 0) && compute_capability_major() >= 8;
  }();
  if (!enabled || n.D > 128 || n.Tq <= 16) return false;
  for (const Tensor* t : ops)
    if (t->dtype() != DType::BF16 || !rows_on_16_bytes<bf16>(*t)) return false;  // (D % 8 == 0 with it)
  return true;
}

Args args_of(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse, double scale) {
  Args a{};
  set_forward(a, q, k, v, out);
  a.lse = ptr<float>(lse);
  a.scale = float(scale);
  a.scale_log2 = float(scale * 1.4426950408889634);
  return a;
}

// Calls f(kD, BN) for the head width rounded up to 16, 32, 64 or 128.
template <class F> void visit_tiles(int D, F&& f) {
  if (D <= 16) f(std::integral_constant<int, 16>{}, std::integral_constant<int, 64>{});
  else if (D <= 32) f(std::integral_constant<int, 32>{}, std::integral_constant<int, 64>{});
  else if (D <= 64) f(std::integral_constant<int, 64>{}, std::integral_constant<int, 64>{});
  else f(std::integral_constant<int, 128>{}, std::integral_constant<int, 32>{});
}

template <auto kernel> void launch(size_t smem, int64_t blocks, const Args& a) {
  static const bool once = (allow_smem(kernel, smem), true);
  (void)once;
  kernel<<<attention_grid(blocks), kMmaThreads, smem, stream()>>>(a);
  MB_CUDA_LAUNCH_CHECK();
}

}  // namespace

bool attention_mma(const Tensor& q, const Tensor& k, const Tensor& v, double scale, const Tensor& out,
                   const Tensor& lse) {
  if (!suits(dims_of(q, k), {&q, &k, &v, &out})) return false;
  MB_CHECK(lse.dtype() == DType::F32, "attention: lse of bf16 attention must be f32, got ", dtype_name(lse.dtype()));
  const Args a = args_of(q, k, v, out, lse, scale);
  visit_tiles(a.n.D, [&](auto kd, auto bn) {
    constexpr int kD = decltype(kd)::value, BN = decltype(bn)::value;
    launch<attention_mma_forward_kernel<kD, BN>>(smem_forward<kD, BN>(), a.n.BH * ((a.n.Tq + BM - 1) / BM), a);
  });
  return true;
}

bool attention_mma_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                            const Tensor& gout, double scale, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  if (!suits(dims_of(q, k), {&q, &k, &v, &out, &gout, &gq, &gk, &gv})) return false;
  MB_CHECK(lse.dtype() == DType::F32, "attention: lse of bf16 attention must be f32, got ", dtype_name(lse.dtype()));
  Args a = args_of(q, k, v, out, lse, scale);
  set_gradients(a, gout, gq, gk, gv);
  const Tensor delta = Tensor::empty({a.n.BH * a.n.Tq}, DType::F32, Device::CUDA);
  a.delta = ptr<float>(delta);
  visit_tiles(a.n.D, [&](auto kd, auto bn) {
    constexpr int kD = decltype(kd)::value, BN = decltype(bn)::value;
    launch<attention_mma_dq_kernel<kD, BN>>(smem_dq<kD, BN>(), a.n.BH * ((a.n.Tq + BM - 1) / BM), a);
    launch<attention_mma_dkv_kernel<kD, BN>>(smem_dkv<kD, BN>(), a.n.BH * ((a.n.Tk + BM - 1) / BM), a);
  });
  return true;
}

}  // namespace mb::cuda
