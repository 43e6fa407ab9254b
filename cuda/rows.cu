// CUDA row-wise kernels over the last dim of contiguous (N, C) tensors: softmax and
// log-softmax, layer norm, cross-entropy (tensor/cpu/rows.cpp is the CPU twin and the oracle).
// f32 computes in float, f64 in double, bf16 storage in float.
//
// Layout: a row belongs to a row group, a warp when C <= 1024 (8 rows a 256-thread block) or
// the whole block above that; the group's threads stride over the row's columns and its sums
// are a fixed butterfly of warp shuffles (then, for a block, the warps' partials added in warp
// order), so every thread ends with the same bits and every run gives the same result.
// The grid strides over the rows.
//
// Layer norm's gw and gb are column sums over all rows: a first kernel sums fixed chunks of
// rows (a block per 32 columns x chunk, 8 row lanes added in order), a second adds the chunks
// in order. No atomics anywhere: the results do not depend on scheduling.
#include <algorithm>
#include <type_traits>

#include "cuda/common.cuh"
#include "cuda/indices.cuh"
#include "cuda/kernels.h"

namespace mb::cuda {
namespace {

constexpr int kRowThreads = 256;     // threads in a block of every row kernel
constexpr int kWarpRowMaxC = 1024;   // up to this many columns a warp takes a row, above a block

int64_t last_dim(const Tensor& t) { return t.dim() ? t.shape().back() : 1; }
int64_t row_count(const Tensor& t) { return t.numel() / std::max<int64_t>(last_dim(t), 1); }

// The row group of this thread: a warp (kBlock false) or the block (kBlock true).
template <bool kBlock> struct Group {
  static __device__ __forceinline__ int lane() { return kBlock ? int(threadIdx.x) : int(threadIdx.x % 32); }
  static __device__ __forceinline__ int size() { return kBlock ? int(blockDim.x) : 32; }
  static __device__ __forceinline__ int64_t first_row() {
    return kBlock ? int64_t(blockIdx.x) : int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  }
  static __device__ __forceinline__ int64_t row_step() {
    return kBlock ? int64_t(gridDim.x) : int64_t(gridDim.x) * (blockDim.x / 32);
  }
};

// A running (max m, Σ exp(x - m)) of a row; the empty row is (-inf, 0).
template <class A> struct MaxSum {
  A m, s;
};

template <class A> __device__ __forceinline__ void push(MaxSum<A>& a, A x) {
  if (x > a.m) {  // a new max: rescale the sum (0 · exp(-inf) = 0 on the first element)
    a.s = a.s * exp_of(a.m - x) + A(1);
    a.m = x;
  } else if (x != -inf_of<A>()) {  // (-inf adds nothing; NaN makes the sum NaN)
    a.s += exp_of(x - a.m);
  }
}

// Commutative to the bit (fmax and + are), so both lanes of a butterfly step agree.
template <class A> __device__ __forceinline__ MaxSum<A> merge(MaxSum<A> a, MaxSum<A> b) {
  const A m = fmax(a.m, b.m);
  if (m == -inf_of<A>()) return {m, a.s + b.s};
  return {m, a.s * exp_of(a.m - m) + b.s * exp_of(b.m - m)};
}

// log Σ exp(x) from the row's (max, sum): the max itself when it is +inf, -inf for a row of -inf
template <class A> __device__ __forceinline__ A lse_of(MaxSum<A> a) {
  return a.m == inf_of<A>() ? a.m : a.m + log_of(a.s);
}

template <class A> __device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <class A> __device__ __forceinline__ MaxSum<A> warp_merge(MaxSum<A> v) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2)
    v = merge(v, MaxSum<A>{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)});
  return v;
}

// Σ v over the row group, the same value in every thread of it.
template <bool kBlock, class A> __device__ __forceinline__ A group_sum(A v) {
  v = warp_sum(v);
  if constexpr (kBlock) {
    __shared__ A part[32];
    __syncthreads();  // an earlier reduction may still be reading part
    if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
    __syncthreads();
    v = part[0];
    for (int w = 1; w < int(blockDim.x / 32); ++w) v += part[w];
  }
  return v;
}

template <bool kBlock, class A> __device__ __forceinline__ MaxSum<A> group_merge(MaxSum<A> v) {
  v = warp_merge(v);
  if constexpr (kBlock) {
    __shared__ A pm[32], ps[32];
    __syncthreads();
    if (threadIdx.x % 32 == 0) {
      pm[threadIdx.x / 32] = v.m;
      ps[threadIdx.x / 32] = v.s;
    }
    __syncthreads();
    v = {pm[0], ps[0]};
    for (int w = 1; w < int(blockDim.x / 32); ++w) v = merge(v, MaxSum<A>{pm[w], ps[w]});
  }
  return v;
}

// log Σ exp over the row of C values at xr, in every thread of the group
template <bool kBlock, class T> __device__ __forceinline__ acc_t<T> row_lse(const T* xr, int64_t C) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  MaxSum<A> ms{-inf_of<A>(), A(0)};
  for (int64_t c = G::lane(); c < C; c += G::size()) push(ms, load(xr + c));
  return lse_of(group_merge<kBlock>(ms));
}

// ---- softmax ----

// y = exp(x - lse) or, for log-softmax, x - lse, row by row
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads) softmax_kernel(const T* x, T* y, int64_t N, int64_t C, bool log) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T* xr = x + n * C;
    T* yr = y + n * C;
    const A lse = row_lse<kBlock>(xr, C);
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      const A v = load(xr + c) - lse;
      store(yr + c, log ? v : exp_of(v));
    }
  }
}

// softmax: gx = y · (gy - Σ gy·y);  log-softmax: gx = gy - exp(y) · Σ gy
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads)
    softmax_backward_kernel(const T* y, const T* gy, T* gx, int64_t N, int64_t C, bool log) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T *yr = y + n * C, *gr = gy + n * C;
    T* o = gx + n * C;
    A s = 0;
    for (int64_t c = G::lane(); c < C; c += G::size()) s += log ? load(gr + c) : load(gr + c) * load(yr + c);
    s = group_sum<kBlock>(s);
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      const A yv = load(yr + c), gv = load(gr + c);
      store(o + c, log ? gv - exp_of(yv) * s : yv * (gv - s));
    }
  }
}

// ---- layer norm ----

// y = (x - μ) · rstd · w + b with μ and rstd = 1 / √(var + eps) saved (two passes: μ, then
// the variance around it, as on the CPU)
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads)
    layer_norm_kernel(const T* x, const T* w, const T* b, acc_t<T> eps, T* y, acc_t<T>* mean, acc_t<T>* rstd, int64_t N,
                      int64_t C) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T* xr = x + n * C;
    T* yr = y + n * C;
    A s = 0;
    for (int64_t c = G::lane(); c < C; c += G::size()) s += load(xr + c);
    const A mu = group_sum<kBlock>(s) / A(C);
    A v = 0;
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      const A d = load(xr + c) - mu;
      v += d * d;
    }
    const A r = A(1) / sqrt_of(group_sum<kBlock>(v) / A(C) + eps);
    if (G::lane() == 0) {
      mean[n] = mu;
      rstd[n] = r;
    }
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      A o = (load(xr + c) - mu) * r;
      if (w) o *= load(w + c);
      if (b) o += load(b + c);
      store(yr + c, o);
    }
  }
}

// With h = (x - μ)·rstd and g = gy·w:  gx = rstd · (g - mean(g) - h · mean(g·h))
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads)
    layer_norm_backward_kernel(const T* x, const T* w, const acc_t<T>* mean, const acc_t<T>* rstd, const T* gy, T* gx, int64_t N,
                               int64_t C) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T *xr = x + n * C, *gr = gy + n * C;
    const A mu = mean[n], r = rstd[n];
    A sg = 0, sgh = 0;
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      const A g = w ? load(gr + c) * load(w + c) : load(gr + c), h = (load(xr + c) - mu) * r;
      sg += g;
      sgh += g * h;
    }
    sg = group_sum<kBlock>(sg) / A(C);
    sgh = group_sum<kBlock>(sgh) / A(C);
    T* o = gx + n * C;
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      const A g = w ? load(gr + c) * load(w + c) : load(gr + c), h = (load(xr + c) - mu) * r;
      store(o + c, r * (g - sg - h * sgh));
    }
  }
}

constexpr int kColTile = 32, kColLanes = 8;  // column-sum blocks: 32 columns x 8 row lanes

// Partial column sums over the rows of chunk blockIdx.y: pw[chunk, c] = Σ gy·h, pb[chunk, c] =
// Σ gy. Row lane ty takes rows n0 + ty, n0 + ty + 8, ...; the 8 lanes are then added in order.
template <class T>
__global__ void __launch_bounds__(kColTile* kColLanes)
    layer_norm_columns_kernel(const T* x, const acc_t<T>* mean, const acc_t<T>* rstd, const T* gy, int64_t N, int64_t C,
                              int64_t rows_per_chunk, acc_t<T>* pw, acc_t<T>* pb) {
  using A = acc_t<T>;
  __shared__ A sw[kColLanes][kColTile], sb[kColLanes][kColTile];
  const int tx = int(threadIdx.x) % kColTile, ty = int(threadIdx.x) / kColTile;
  const int64_t c = int64_t(blockIdx.x) * kColTile + tx, chunk = blockIdx.y;
  const int64_t n0 = chunk * rows_per_chunk, n1 = n0 + rows_per_chunk < N ? n0 + rows_per_chunk : N;
  A aw = 0, ab = 0;
  if (c < C) {
    for (int64_t n = n0 + ty; n < n1; n += kColLanes) {
      const A g = load(gy + n * C + c), h = (load(x + n * C + c) - mean[n]) * rstd[n];
      aw += g * h;
      ab += g;
    }
  }
  sw[ty][tx] = aw;
  sb[ty][tx] = ab;
  __syncthreads();
  if (ty == 0 && c < C) {
    A w = sw[0][tx], b = sb[0][tx];
    for (int k = 1; k < kColLanes; ++k) {
      w += sw[k][tx];
      b += sb[k][tx];
    }
    pw[chunk * C + c] = w;
    pb[chunk * C + c] = b;
  }
}

// gw[c] = Σ_chunk pw[chunk, c], gb likewise, chunks in order (either output may be null)
template <class T>
__global__ void layer_norm_columns_final_kernel(const acc_t<T>* pw, const acc_t<T>* pb, int64_t chunks, int64_t C,
                                                T* gw, T* gb) {
  using A = acc_t<T>;
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  A w = 0, b = 0;
  for (int64_t k = 0; k < chunks; ++k) {
    w += pw[k * C + c];
    b += pb[k * C + c];
  }
  if (gw) store(gw + c, w);
  if (gb) store(gb + c, b);
}

// ---- cross-entropy ----

// lse[n] = log Σ exp(logits[n]); losses[n] = lse[n] - logits[n, t[n]] (NaN for a target out of
// range, which is recorded)
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads) cross_entropy_kernel(const T* logits, Indices targets, int64_t N,
                                                                    int64_t C, T* losses, acc_t<T>* lse) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T* xr = logits + n * C;
    const A s = row_lse<kBlock>(xr, C);
    if (G::lane() == 0) {
      lse[n] = s;
      const int64_t t = checked_index(targets, n);
      store(losses + n, t >= 0 ? s - load(xr + t) : nan_of<A>());
    }
  }
}

// glogits[n] = (exp(logits[n] - lse[n]) - onehot(t[n])) · gloss[n]
template <class T, bool kBlock>
__global__ void __launch_bounds__(kRowThreads)
    cross_entropy_backward_kernel(const T* logits, Indices targets, const acc_t<T>* lse, const T* gloss,
                                  T* glogits, int64_t N, int64_t C) {
  using A = acc_t<T>;
  using G = Group<kBlock>;
  for (int64_t n = G::first_row(); n < N; n += G::row_step()) {
    const T* xr = logits + n * C;
    T* o = glogits + n * C;
    const A g = load(gloss + n), s = lse[n];
    const int64_t t = index_in_range(targets, n);
    for (int64_t c = G::lane(); c < C; c += G::size()) {
      A v = g * exp_of(load(xr + c) - s);
      if (c == t) v -= g;
      store(o + c, v);
    }
  }
}

// ---- launching ----

// Calls f(std::bool_constant<kBlock>, grid) with the row group for rows of C columns.
template <class F> void launch_rows(int64_t N, int64_t C, F&& f) {
  if (N <= 0) return;
  const bool block = C > kWarpRowMaxC;
  const int64_t rows_per_block = block ? 1 : kRowThreads / 32;
  const unsigned grid = unsigned(std::min<int64_t>((N + rows_per_block - 1) / rows_per_block, int64_t(1) << 20));
  if (block) f(std::true_type{}, grid);
  else f(std::false_type{}, grid);
  MB_CUDA_LAUNCH_CHECK();
}

template <class T> const T* cptr_or_null(const Tensor& t) { return t.defined() ? ptr<T>(t) : nullptr; }
template <class T> T* ptr_or_null(const Tensor& t) { return t.defined() ? ptr<T>(t) : nullptr; }

template <class A> constexpr DType acc_dtype() { return sizeof(A) == 8 ? DType::F64 : DType::F32; }

}  // namespace

void softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_floating(x.dtype(), [&](auto z) {
    using T = decltype(z);
    launch_rows(N, C, [&](auto block, unsigned grid) {
      softmax_kernel<T, decltype(block)::value><<<grid, kRowThreads, 0, stream()>>>(ptr<T>(x), ptr<T>(y), N, C, log);
    });
  });
}

void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  const int64_t C = last_dim(y), N = row_count(y);
  visit_floating(y.dtype(), [&](auto z) {
    using T = decltype(z);
    launch_rows(N, C, [&](auto block, unsigned grid) {
      softmax_backward_kernel<T, decltype(block)::value>
          <<<grid, kRowThreads, 0, stream()>>>(ptr<T>(y), ptr<T>(gy), ptr<T>(gx), N, C, log);
    });
  });
}

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_floating(x.dtype(), [&](auto z) {
    using T = decltype(z);
    launch_rows(N, C, [&](auto block, unsigned grid) {
      layer_norm_kernel<T, decltype(block)::value><<<grid, kRowThreads, 0, stream()>>>(
          ptr<T>(x), cptr_or_null<T>(w), cptr_or_null<T>(b), acc_t<T>(eps), ptr<T>(y), ptr<acc_t<T>>(mean), ptr<acc_t<T>>(rstd), N,
          C);
    });
  });
}

void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd, const Tensor& gy,
                         const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_floating(x.dtype(), [&](auto z) {
    using T = decltype(z);
    using A = acc_t<T>;
    launch_rows(N, C, [&](auto block, unsigned grid) {
      layer_norm_backward_kernel<T, decltype(block)::value><<<grid, kRowThreads, 0, stream()>>>(
          ptr<T>(x), cptr_or_null<T>(w), ptr<A>(mean), ptr<A>(rstd), ptr<T>(gy), ptr<T>(gx), N, C);
    });
    if ((!gw.defined() && !gb.defined()) || C <= 0) return;
    // Chunks of rows: about 512 blocks in all, at least 64 rows a chunk. The split depends on
    // N and C only, so the sums are the same on every device.
    const int64_t col_tiles = (C + kColTile - 1) / kColTile;
    int64_t chunks = std::min<int64_t>(std::max<int64_t>(1, 512 / col_tiles), (N + 63) / 64);
    int64_t rows_per_chunk = 0;
    if (chunks > 0) {
      rows_per_chunk = (N + chunks - 1) / chunks;
      chunks = (N + rows_per_chunk - 1) / rows_per_chunk;
    }
    const Tensor part = Tensor::empty({2 * std::max<int64_t>(chunks, 1) * C}, acc_dtype<A>(), Device::CUDA);
    A* pw = ptr<A>(part);
    A* pb = pw + std::max<int64_t>(chunks, 1) * C;
    if (chunks > 0) {
      layer_norm_columns_kernel<T><<<dim3(unsigned(col_tiles), unsigned(chunks)), kColTile * kColLanes, 0, stream()>>>(
          ptr<T>(x), ptr<A>(mean), ptr<A>(rstd), ptr<T>(gy), N, C, rows_per_chunk, pw, pb);
      MB_CUDA_LAUNCH_CHECK();
    }
    layer_norm_columns_final_kernel<T><<<blocks_for(C), kThreads, 0, stream()>>>(pw, pb, chunks, C, ptr_or_null<T>(gw),
                                                                                  ptr_or_null<T>(gb));
    MB_CUDA_LAUNCH_CHECK();
  });
}

void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& losses, const Tensor& lse) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_floating(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    launch_rows(N, C, [&](auto block, unsigned grid) {
      cross_entropy_kernel<T, decltype(block)::value><<<grid, kRowThreads, 0, stream()>>>(
          ptr<T>(logits), indices(targets, C, kCrossEntropyTarget), N, C, ptr<T>(losses), ptr<acc_t<T>>(lse));
    });
  });
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, const Tensor& gloss,
                            const Tensor& glogits) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_floating(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    launch_rows(N, C, [&](auto block, unsigned grid) {
      cross_entropy_backward_kernel<T, decltype(block)::value><<<grid, kRowThreads, 0, stream()>>>(
          ptr<T>(logits), indices(targets, C, kCrossEntropyTarget), ptr<acc_t<T>>(lse), ptr<T>(gloss), ptr<T>(glogits), N, C);
    });
  });
}

}  // namespace mb::cuda
