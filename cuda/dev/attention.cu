// Causal self-attention forward, q, k, v, out all (B, H, T, D):
// out_i = sum_{j <= i} softmax_j(q_i . k_j / sqrt(D)) v_j.
// v1 is the textbook three steps with the (T, T) score matrix in device memory; v2 is the
// flash-attention idea: never store the scores, keep a running (online) softmax per query;
// v3 moves both products onto the tensor cores in bf16 (FlashAttention-2's layout of work).
#include <cuda_bf16.h>

#include <string>

#include "cuda/mma.cuh"
#include "lab.cuh"
#include "oracle.h"

namespace lab {
namespace {

constexpr unsigned kFull = 0xffffffffu;

// ---------------------------------------------------------------- v1: materialised scores

// v1, step 1: one thread per score, S[bh, i, j] = q_i . k_j * scale, -inf above the diagonal.
__global__ void attn_scores(const float* q, const float* k, float* s, int BH, int T, int D, float scale) {
  const size_t idx = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= size_t(BH) * T * T) return;
  const int j = int(idx % T), i = int(idx / T % T);
  const size_t base = idx / (size_t(T) * T) * T * D;
  if (j > i) {
    s[idx] = -INFINITY;
    return;
  }
  float dot = 0;
  for (int d = 0; d < D; ++d) dot += q[base + size_t(i) * D + d] * k[base + size_t(j) * D + d];
  s[idx] = dot * scale;
}

// v1, step 2: softmax over each row of S in place, one warp per row (as in softmax.cu v2/v3,
// two passes); only columns j <= i are live, the rest become 0.
__global__ void attn_softmax(float* s, long long rows, int T) {
  const long long row = (size_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const int i = int(row % T);
  float* sr = s + size_t(row) * T;
  float m = -INFINITY;
  for (int j = lane; j <= i; j += 32) m = fmaxf(m, sr[j]);
  for (int offset = 16; offset > 0; offset /= 2) m = fmaxf(m, __shfl_xor_sync(kFull, m, offset));
  float sum = 0;
  for (int j = lane; j <= i; j += 32) sum += expf(sr[j] - m);
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(kFull, sum, offset);
  const float inv = 1.0f / sum;
  for (int j = lane; j < T; j += 32) sr[j] = j <= i ? expf(sr[j] - m) * inv : 0.0f;
}

// v1, step 3: one thread per output element, out[bh, i, d] = sum_{j <= i} P[bh, i, j] v[bh, j, d].
// Neighbouring threads take neighbouring d: their reads of v are coalesced.
__global__ void attn_pv(const float* p, const float* v, float* out, int BH, int T, int D) {
  const size_t idx = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= size_t(BH) * T * D) return;
  const int d = int(idx % D), i = int(idx / D % T);
  const size_t bh = idx / (size_t(T) * D);
  const float* pr = p + (bh * T + i) * T;
  const float* vb = v + bh * T * D;
  float acc = 0;
  for (int j = 0; j <= i; ++j) acc += pr[j] * vb[size_t(j) * D + d];
  out[idx] = acc;
}

// ---------------------------------------------------------------- v2: flash-style

// v2: a block of kBr threads takes kBr consecutive queries of one (b, h), one thread per query,
// and walks over the keys in tiles of kBc. Each key/value tile is loaded into shared memory once
// and used by all kBr queries (kBr times fewer global reads than v1's step 3). Each thread keeps
// its query and output row in registers and an online softmax: the running max m and sum l;
// when a tile raises the max, the output and l so far are rescaled by exp(m_old - m_new).
// The (T, T) scores never exist: memory O(T D) instead of O(T^2), and one kernel instead of
// three. Causality skips whole tiles: keys past the block's last query are never loaded.
// D is a template parameter so that q_i and o_i are register arrays (compiled for 32, 64, 128).
// Registers are the limit: `nvcc -Xptxas -v` (nvcc 13, sm_90) reports 161 for D = 32, 235 for
// D = 64, and for D = 128 the cap of 255 plus 732 bytes spilled to local memory.
constexpr int kBr = 64, kBc = 32;

template <int D>
__global__ void __launch_bounds__(kBr) attention_v2(const float* q, const float* k, const float* v, float* out,
                                                    int T, float scale) {
  __shared__ float ks[kBc][D];
  __shared__ float vs[kBc][D];
  const size_t base = size_t(blockIdx.y) * T * D;
  const int q0 = blockIdx.x * kBr;
  const int i = q0 + threadIdx.x;
  const bool active = i < T;

  float qi[D], o[D];
#pragma unroll
  for (int d = 0; d < D; ++d) {
    qi[d] = active ? q[base + size_t(i) * D + d] * scale : 0.0f;  // the scale folded into q
    o[d] = 0;
  }
  float m = -INFINITY, l = 0;

  const int kv_end = min(T, q0 + kBr);  // no query of this block looks past its last row
  for (int j0 = 0; j0 < kv_end; j0 += kBc) {
    for (int idx = threadIdx.x; idx < kBc * D; idx += kBr) {  // the block loads the tile together
      const int r = idx / D, c = idx % D;
      const bool in = j0 + r < T;
      ks[r][c] = in ? k[base + size_t(j0 + r) * D + c] : 0.0f;
      vs[r][c] = in ? v[base + size_t(j0 + r) * D + c] : 0.0f;
    }
    __syncthreads();

    // all threads of a warp read the same ks[jj][d]: a shared-memory broadcast, no conflicts
    float s[kBc];
    float tile_max = -INFINITY;
#pragma unroll
    for (int jj = 0; jj < kBc; ++jj) {
      float dot = 0;
#pragma unroll
      for (int d = 0; d < D; ++d) dot += qi[d] * ks[jj][d];
      s[jj] = j0 + jj <= i ? dot : -INFINITY;  // the causal mask
      tile_max = fmaxf(tile_max, s[jj]);
    }
    if (tile_max > -INFINITY) {  // some key of this tile is visible to query i
      const float m_new = fmaxf(m, tile_max);
      const float correction = expf(m - m_new);  // 0 on the first tile, where m = -inf
      l *= correction;
#pragma unroll
      for (int d = 0; d < D; ++d) o[d] *= correction;
#pragma unroll
      for (int jj = 0; jj < kBc; ++jj) {
        const float p = expf(s[jj] - m_new);  // exp(-inf) = 0 for masked keys
        l += p;
#pragma unroll
        for (int d = 0; d < D; ++d) o[d] += p * vs[jj][d];
      }
      m = m_new;
    }
    __syncthreads();  // the tile is used up before the next one overwrites it
  }
  if (active) {
    const float inv = 1.0f / l;
#pragma unroll
    for (int d = 0; d < D; ++d) out[base + size_t(i) * D + d] = o[d] * inv;
  }
}

template <int D>
void launch_v2(const float* q, const float* k, const float* v, float* out, int BH, int T) {
  attention_v2<D><<<dim3(ceil_div(T, kBr), BH), kBr>>>(q, k, v, out, T, 1.0f / sqrtf(float(D)));
}

// ---------------------------------------------------------------- v3: tensor cores

// v3: v2's loop with the products on tensor cores, one warp's mma.sync m16n8k16 at a time
// (bf16 inputs, f32 sums; cuda/mma.cuh has the fragment layout). A block is 4 warps and 64
// queries, 16 per warp; the warp holds its queries as A fragments, and for each tile of 64
// keys computes S = Q Kᵀ (8 accumulators of 16 x 8), the online softmax on them (a row's
// values sit in 4 lanes: 2 shuffles for its max and sum, in the exp2 domain), and O += P V
// with P taken from the S accumulators as A fragments directly: the scores never leave the
// registers. K waits in shared memory as bf16 rows (its rows are the B fragments of Kᵀ), V
// transposed (for P V the B operand is V's columns); rows are padded by 8 bf16 so the 32
// lanes of a fragment read 32 different banks. The production kernel (cuda/attention_mma.cu)
// adds strided heads, Tq < Tk, the lse and the backward.
constexpr int kWarps3 = 4, kBr3 = 16 * kWarps3, kBc3 = 64;

template <int D>
__global__ void __launch_bounds__(32 * kWarps3) attention_v3(const float* q, const float* k, const float* v, float* out,
                                                              int T, float scale_log2) {
  using mb::cuda::load_a;
  using mb::cuda::load_bt;
  using mb::cuda::mma_16816;
  constexpr int LD = D + 8, LV = kBc3 + 8;
  static_assert(kBr3 == kBc3, "the queries pass through the key tile's buffer");
  __align__(16) __shared__ __nv_bfloat16 ks[kBc3 * LD], vt[D * LV];  // 36 KB at D = 128
  const size_t base = size_t(blockIdx.y) * T * D;
  const int q0 = blockIdx.x * kBr3, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int idx = threadIdx.x; idx < kBr3 * D; idx += 32 * kWarps3) {
    const int r = idx / D, c = idx % D;
    ks[r * LD + c] = __float2bfloat16(q0 + r < T ? q[base + size_t(q0 + r) * D + c] : 0.0f);
  }
  __syncthreads();
  uint32_t qf[D / 16][4];  // the queries stay in registers from here on
  for (int kk = 0; kk < D / 16; ++kk) load_a(qf[kk], ks + warp * 16 * LD, LD, 16 * kk, lane);
  float o[D / 8][4] = {}, m[2] = {-INFINITY, -INFINITY}, l[2] = {0, 0};
  const int row = q0 + warp * 16 + lane / 4;  // this lane's rows: row and row + 8
  for (int j0 = 0; j0 < min(T, q0 + kBr3); j0 += kBc3) {
    __syncthreads();  // the previous tile is used up
    for (int idx = threadIdx.x; idx < kBc3 * D; idx += 32 * kWarps3) {
      const int r = idx / D, c = idx % D;
      const bool in = j0 + r < T;
      ks[r * LD + c] = __float2bfloat16(in ? k[base + size_t(j0 + r) * D + c] : 0.0f);
      vt[c * LV + r] = __float2bfloat16(in ? v[base + size_t(j0 + r) * D + c] : 0.0f);
    }
    __syncthreads();
    float s[kBc3 / 8][4] = {};
    for (int nt = 0; nt < kBc3 / 8; ++nt)
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t b[2];
        load_bt(b, ks + nt * 8 * LD, LD, 16 * kk, lane);
        mma_16816(s[nt], qf[kk], b);
      }
    for (int r = 0; r < 2; ++r) {  // online softmax of rows row and row + 8
      float mx = -INFINITY;
      for (int nt = 0; nt < kBc3 / 8; ++nt)
        for (int e = 0; e < 2; ++e) {
          float& x = s[nt][2 * r + e];
          x = j0 + nt * 8 + 2 * (lane % 4) + e <= row + 8 * r ? x * scale_log2 : -INFINITY;  // causal mask
          mx = fmaxf(mx, x);
        }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m[r], mx);
      const float corr = m_new == -INFINITY ? 1.0f : exp2f(m[r] - m_new);
      l[r] *= corr;  // this lane's part of the row sum; the 4 lanes are added at the end
      for (int nt = 0; nt < kBc3 / 8; ++nt)
        for (int e = 0; e < 2; ++e) {
          float& x = s[nt][2 * r + e];
          x = x == -INFINITY ? 0.0f : exp2f(x - m_new);
          l[r] += x;
        }
      m[r] = m_new;
      for (int nd = 0; nd < D / 8; ++nd) {
        o[nd][2 * r] *= corr;
        o[nd][2 * r + 1] *= corr;
      }
    }
    for (int kk = 0; kk < kBc3 / 16; ++kk) {  // O += P V, P straight from the accumulators
      uint32_t a[4];
      mb::cuda::acc_to_a(a, s[2 * kk], s[2 * kk + 1]);
      for (int nd = 0; nd < D / 8; ++nd) {
        uint32_t b[2];
        load_bt(b, vt + nd * 8 * LV, LV, 16 * kk, lane);
        mma_16816(o[nd], a, b);
      }
    }
  }
  for (int r = 0; r < 2; ++r) {
    float sum = l[r] + __shfl_xor_sync(0xffffffffu, l[r], 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    if (row + 8 * r >= T) continue;
    for (int nd = 0; nd < D / 8; ++nd)
      for (int e = 0; e < 2; ++e)
        out[base + size_t(row + 8 * r) * D + nd * 8 + 2 * (lane % 4) + e] = o[nd][2 * r + e] / sum;
  }
}

template <int D>
void launch_v3(const float* q, const float* k, const float* v, float* out, int BH, int T) {
  attention_v3<D><<<dim3(ceil_div(T, kBr3), BH), 32 * kWarps3>>>(q, k, v, out, T, 1.4426950408889634f / sqrtf(float(D)));
}

std::vector<Result> run(const std::vector<int>& versions, const Config& cfg) {
  const int B = cfg.batch, H = cfg.heads, T = cfg.seq, D = cfg.head_dim, BH = B * H;
  const size_t n = size_t(BH) * T * D;
  const std::vector<float> q = random_vector(n, cfg.seed), k = random_vector(n, cfg.seed + 1),
                           v = random_vector(n, cfg.seed + 2);
  std::vector<float> want(n);
  oracle::attention_causal(q.data(), k.data(), v.data(), want.data(), B, H, T, D);
  DeviceBuffer dq(q), dk(k), dv(v), dout(n);

  // useful work: q.k and p.v for the T (T + 1) / 2 visible pairs, 2 D flops each
  const Work work{4.0 * BH * D * (double(T) * (T + 1) / 2), true};
  const float scale = 1.0f / std::sqrt(float(D));
  std::vector<Result> results;
  for (int ver : versions) {
    const std::string shape =
        "B" + std::to_string(B) + " H" + std::to_string(H) + " T" + std::to_string(T) + " D" + std::to_string(D);
    Result r = result_row(attention_family(), ver, shape, 1e-4);
    if (ver == 1) {
      const size_t scores = size_t(BH) * T * T;
      if (scores * sizeof(float) > (size_t(8) << 30)) {
        results.push_back(skipped(r, "the T x T scores would need more than 8 GiB"));
        continue;
      }
      DeviceBuffer ds(scores);
      results.push_back(measure(cfg, r, dout, want, work, [&] {
        attn_scores<<<ceil_div(scores, 256), 256>>>(dq.get(), dk.get(), ds.get(), BH, T, D, scale);
        attn_softmax<<<ceil_div(size_t(BH) * T * 32, 256), 256>>>(ds.get(), (long long)BH * T, T);
        attn_pv<<<ceil_div(n, 256), 256>>>(ds.get(), dv.get(), dout.get(), BH, T, D);
      }));
    } else if (ver == 2) {
      void (*launch)(const float*, const float*, const float*, float*, int, int) = nullptr;
      switch (D) {
        case 32: launch = launch_v2<32>; break;
        case 64: launch = launch_v2<64>; break;
        case 128: launch = launch_v2<128>; break;
      }
      if (!launch) {
        results.push_back(skipped(r, "v2 is compiled for head_dim 32, 64 and 128"));
        continue;
      }
      results.push_back(measure(cfg, r, dout, want, work,
                                [&] { launch(dq.get(), dk.get(), dv.get(), dout.get(), BH, T); }));
    } else if (ver == 3) {
      int major = 0;
      CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
      if (major < 8) {
        results.push_back(skipped(r, "v3 needs bf16 tensor cores (compute capability 8.0 or later)"));
        continue;
      }
      void (*launch)(const float*, const float*, const float*, float*, int, int) =
          D == 64 ? launch_v3<64> : D == 128 ? launch_v3<128> : nullptr;
      if (!launch) {
        results.push_back(skipped(r, "v3 is compiled for head_dim 64 and 128"));
        continue;
      }
      r.tol = 1e-2;  // bf16 inputs (8 bits of mantissa): 2.3e-3 measured on the emulator
      results.push_back(measure(cfg, r, dout, want, work,
                                [&] { launch(dq.get(), dk.get(), dv.get(), dout.get(), BH, T); }));
    }
  }
  return results;
}

}  // namespace

const Family& attention_family() {
  static const Family f{
      "attention",
      {
          {"scores in memory, 3 kernels", "the textbook: S = QK^T / sqrt(D) stored (T x T), softmax, then PV"},
          {"flash: tiled, online softmax", "K/V tiles in shared memory, online softmax, no T x T matrix"},
          {"tensor cores: bf16 mma.sync", "FlashAttention-2's work layout: Q Kᵀ and P V by warp-wide mma.sync, P in registers"},
      },
      run};
  return f;
}

}  // namespace lab
