// Causal attention over short sequences (at most 16 keys): the local model's patches, P = 8
// bytes each, B·K·H of them (65,536 at the GPU-sized config). A tile kernel would give every
// sequence a block of 256 threads and a 16 x 16 tile; here a warp takes a whole sequence:
// its q, k, v rows wait in shared memory (rows padded by one element, so the lanes reading
// different rows hit different banks), the Tq x Tk scores are spread over the lanes (a row's
// TK = Tk rounded up to a power of two lanes side by side: its max and sum are log2(TK)
// shuffles), and the products with V, K, Q and dO run with the lanes along D. The backward
// finishes dQ, dK and dV of a sequence in the same warp: no atomics, the same bits every run.
// Any float dtype (bf16 storage computes in float); 4 warps a block, fewer when a sequence's
// rows need more than 12 KB of shared memory.
#include <algorithm>

#include "cuda/attention.cuh"
#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

constexpr int kMaxKeys = 16, kMaxWarps = 4;
constexpr size_t kSmemBudget = 48 * 1024;  // a block's shared memory, all warps

template <class T> struct ShortArgs : Operands<T> {
  acc_t<T>* lse;  // written by the forward, read by the backward
  acc_t<T> scale;
  int tk2, warps;    // Tk rounded up to a power of two; sequences a block
  bool packed;       // every row read starts on 16 bytes and D is whole 16-byte packs
  int64_t per_warp;  // shared-memory elements a warp
};

template <class A> __device__ __forceinline__ A* short_smem() {
  extern __shared__ __align__(16) unsigned char smem_[];
  return reinterpret_cast<A*>(smem_);
}

// rows [0, R) of a head (R x D, row stride st) into shared memory with pitch D + 1, lanes along
// D: 16 bytes a lane when `packed` (every row starts on 16 bytes and D is whole packs), else an
// element a lane
template <class T>
__device__ __forceinline__ void load_rows(acc_t<T>* s, const T* g, int64_t st, int R, int D, int lane, bool packed) {
  if (packed) {
    constexpr int W = kPack<T>;
    const int P = D / W;
    for (int i = lane; i < R * P; i += 32) {
      const int r = i / P, c = i % P * W;
      const Pack<T> p = load_pack(g + r * st + c);
#pragma unroll
      for (int e = 0; e < W; ++e) s[r * (D + 1) + c + e] = load(&p.v[e]);
    }
    return;
  }
  for (int r = 0; r < R; ++r)
    for (int d = lane; d < D; d += 32) s[r * (D + 1) + d] = load(g + r * st + d);
}

// rows r < R of a head (at base, strides hd) = M (R, tk2) · Z (Tk, pitch L), from shared
// memory, lanes along D
template <class T, class A>
__device__ __forceinline__ void store_product(T* base, Head hd, int64_t b, int64_t h, const A* M, int R, int tk2,
                                              const A* Z, int Tk, int L, int D, int lane) {
  for (int r = 0; r < R; ++r) {
    T* p = at(base, hd, b, h, r);
    for (int d = lane; d < D; d += 32) {
      A acc = 0;
      for (int j = 0; j < Tk; ++j) acc += M[r * tk2 + j] * Z[j * L + d];
      store(p + d, acc);
    }
  }
}

template <class A> __device__ __forceinline__ A dot(const A* x, const A* y, int D) {
  A s = 0;
  for (int d = 0; d < D; ++d) s += x[d] * y[d];
  return s;
}

// over the tk2 lanes that hold one row of scores (a fixed butterfly: the same bits in all)
template <class A> __device__ __forceinline__ A seg_max(A v, int tk2) {
  for (int o = tk2 / 2; o > 0; o /= 2) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <class A> __device__ __forceinline__ A seg_sum(A v, int tk2) {
  for (int o = tk2 / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <class T> __global__ void attention_short_forward_kernel(const ShortArgs<T> a) {
  using A = acc_t<T>;
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const Dims n = a.n;
  const int64_t bh = int64_t(blockIdx.x) * a.warps + warp;
  if (bh >= n.BH) return;  // the whole warp; nothing below waits for the block
  const int Tq = int(n.Tq), Tk = int(n.Tk), D = n.D, L = D + 1, tk2 = a.tk2, shift = Tk - Tq;
  const int64_t b = bh / n.H, h = bh % n.H;
  A* Qs = short_smem<A>() + warp * a.per_warp;  // (Tq, L)
  A* Ks = Qs + Tq * L;                           // (Tk, L)
  A* Vs = Ks + Tk * L;                           // (Tk, L)
  A* Ps = Vs + Tk * L;                           // (Tq, tk2) probabilities
  load_rows(Qs, at(a.q, a.qh, b, h, 0), a.qh.st, Tq, D, lane, a.packed);
  load_rows(Ks, at(a.k, a.kh, b, h, 0), a.kh.st, Tk, D, lane, a.packed);
  load_rows(Vs, at(a.v, a.vh, b, h, 0), a.vh.st, Tk, D, lane, a.packed);
  __syncwarp();
  for (int i0 = 0; i0 < Tq; i0 += 32 / tk2) {  // 32 / tk2 rows of scores at a time
    const int i = i0 + lane / tk2, j = lane % tk2;
    const bool seen = i < Tq && j < Tk && j <= shift + i;
    const A s = seen ? dot(Qs + i * L, Ks + j * L, D) * a.scale : -inf_of<A>();
    const A m = seg_max(s, tk2);
    const A p = seen ? exp_of(s - m) : A(0);
    const A l = seg_sum(p, tk2);
    if (i < Tq) {
      Ps[i * tk2 + j] = p / l;
      if (j == 0) a.lse[bh * Tq + i] = m + log_of(l);
    }
  }
  __syncwarp();
  store_product(a.o, a.oh, b, h, Ps, Tq, tk2, Vs, Tk, L, D, lane);  // O = P V
}

// Δ_i = dO_i · O_i; P = exp(S·scale - lse); dS = P ∘ (dO Vᵀ - Δ) · scale;
// dQ = dS K, dK = dSᵀ Q, dV = Pᵀ dO.
template <class T> __global__ void attention_short_backward_kernel(const ShortArgs<T> a) {
  using A = acc_t<T>;
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const Dims n = a.n;
  const int64_t bh = int64_t(blockIdx.x) * a.warps + warp;
  if (bh >= n.BH) return;
  const int Tq = int(n.Tq), Tk = int(n.Tk), D = n.D, L = D + 1, tk2 = a.tk2, shift = Tk - Tq;
  const int64_t b = bh / n.H, h = bh % n.H;
  A* Qs = short_smem<A>() + warp * a.per_warp;  // (Tq, L)
  A* dOs = Qs + Tq * L;                          // (Tq, L)
  A* Ks = dOs + Tq * L;                          // (Tk, L)
  A* Vs = Ks + Tk * L;                           // (Tk, L)
  A* Ps = Vs + Tk * L;                           // (Tq, tk2)
  A* dSs = Ps + Tq * tk2;                        // (Tq, tk2)
  A* Dl = dSs + Tq * tk2;                        // (Tq) Δ
  load_rows(Qs, at(a.q, a.qh, b, h, 0), a.qh.st, Tq, D, lane, a.packed);
  load_rows(dOs, at(a.gout, a.goh, b, h, 0), a.goh.st, Tq, D, lane, a.packed);
  load_rows(Ks, at(a.k, a.kh, b, h, 0), a.kh.st, Tk, D, lane, a.packed);
  load_rows(Vs, at(a.v, a.vh, b, h, 0), a.vh.st, Tk, D, lane, a.packed);
  __syncwarp();
  for (int i = 0; i < Tq; ++i) {
    const T* op = at(a.out, a.oh, b, h, i);
    A s = 0;
    for (int d = lane; d < D; d += 32) s += dOs[i * L + d] * load(op + d);
#pragma unroll
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) Dl[i] = s;
  }
  __syncwarp();
  for (int i0 = 0; i0 < Tq; i0 += 32 / tk2) {
    const int i = i0 + lane / tk2, j = lane % tk2;
    if (i >= Tq) break;  // (no shuffles below: lanes may leave)
    const bool seen = j < Tk && j <= shift + i;
    A p = 0, ds = 0;
    if (seen) {
      p = exp_of(dot(Qs + i * L, Ks + j * L, D) * a.scale - a.lse[bh * Tq + i]);
      ds = p * (dot(dOs + i * L, Vs + j * L, D) - Dl[i]) * a.scale;
    }
    Ps[i * tk2 + j] = p;
    dSs[i * tk2 + j] = ds;
  }
  __syncwarp();
  store_product(a.gq, a.gqh, b, h, dSs, Tq, tk2, Ks, Tk, L, D, lane);  // dQ = dS K
  for (int r = 0; r < Tk; ++r) {  // dK = dSᵀ Q, dV = Pᵀ dO
    T* gk = at(a.gk, a.gkh, b, h, r);
    T* gv = at(a.gv, a.gvh, b, h, r);
    for (int d = lane; d < D; d += 32) {
      A ak = 0, av = 0;
      for (int i = 0; i < Tq; ++i) {
        ak += dSs[i * tk2 + r] * Qs[i * L + d];
        av += Ps[i * tk2 + r] * dOs[i * L + d];
      }
      store(gk + d, ak);
      store(gv + d, av);
    }
  }
}

// The arguments and launch shape for n, or false when the sequences are too long for this
// path or a warp's rows would not fit in the budget.
template <class T> bool plan(ShortArgs<T>& a, bool backward) {
  const Dims& n = a.n;
  if (n.Tk > kMaxKeys || n.Tq > n.Tk) return false;
  a.tk2 = 1;
  while (a.tk2 < n.Tk) a.tk2 *= 2;
  const int64_t L = n.D + 1;
  a.per_warp = backward ? 2 * (n.Tq + n.Tk) * L + 2 * n.Tq * a.tk2 + n.Tq : (n.Tq + 2 * n.Tk) * L + n.Tq * a.tk2;
  a.per_warp = (a.per_warp + 1) / 2 * 2;  // keeps every warp's rows on 8 bytes
  const int64_t bytes = a.per_warp * int64_t(sizeof(acc_t<T>));
  if (bytes > int64_t(kSmemBudget)) return false;
  a.warps = int(std::min<int64_t>(kMaxWarps, int64_t(kSmemBudget) / bytes));
  return true;
}

template <class T> ShortArgs<T> args_of(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                        const Tensor& lse, double scale) {
  ShortArgs<T> a{};
  set_forward<T>(a, q, k, v, out);
  a.lse = ptr<acc_t<T>>(lse);
  a.scale = acc_t<T>(scale);
  return a;
}

template <class T> unsigned blocks_of(const ShortArgs<T>& a) { return attention_grid((a.n.BH + a.warps - 1) / a.warps); }

}  // namespace

bool attention_short(const Tensor& q, const Tensor& k, const Tensor& v, double scale, const Tensor& out,
                     const Tensor& lse) {
  return visit_floating(q.dtype(), [&](auto z) {
    using T = decltype(z);
    ShortArgs<T> a = args_of<T>(q, k, v, out, lse, scale);
    if (!plan(a, false)) return false;
    a.packed = rows_on_16_bytes<T>(q) && rows_on_16_bytes<T>(k) && rows_on_16_bytes<T>(v);
    const size_t smem = size_t(a.warps) * size_t(a.per_warp) * sizeof(acc_t<T>);
    attention_short_forward_kernel<T><<<blocks_of(a), 32 * a.warps, smem, stream()>>>(a);
    MB_CUDA_LAUNCH_CHECK();
    return true;
  });
}

bool attention_short_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                              const Tensor& lse, const Tensor& gout, double scale, const Tensor& gq, const Tensor& gk,
                              const Tensor& gv) {
  return visit_floating(q.dtype(), [&](auto z) {
    using T = decltype(z);
    ShortArgs<T> a = args_of<T>(q, k, v, out, lse, scale);
    if (!plan(a, true)) return false;
    set_gradients<T>(a, gout, gq, gk, gv);
    a.packed = rows_on_16_bytes<T>(q) && rows_on_16_bytes<T>(k) && rows_on_16_bytes<T>(v) && rows_on_16_bytes<T>(gout);
    const size_t smem = size_t(a.warps) * size_t(a.per_warp) * sizeof(acc_t<T>);
    attention_short_backward_kernel<T><<<blocks_of(a), 32 * a.warps, smem, stream()>>>(a);
    MB_CUDA_LAUNCH_CHECK();
    return true;
  });
}

}  // namespace mb::cuda
