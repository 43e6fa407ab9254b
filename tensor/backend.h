// Dispatch: every device provides the same table of kernels. An op looks up the table of its
// inputs' device and calls the entry; the CPU table is in tensor/cpu/, the CUDA table in
// cuda/ registers itself when that backend is built. A kernel writes into outputs that the
// caller allocated (same device, right shape and dtype); it checks nothing the op already
// checked.
//
// Shapes in the comments: B batch, H heads, T sequence, D head width, N rows, V classes.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/elementwise_ops.h"
#include "tensor/tensor.h"

namespace mb {

enum class ReduceOp { sum, max, argmax };

// One AdamW update (PyTorch's order): p ← p·(1 − lr·wd); g ← g·grad_scale;
// m ← m + (1 − β1)(g − m); v ← β2·v + (1 − β2)·g²; p ← p − lr/bc1 · m / (√v / bc2_sqrt + ε)
struct AdamWStep {
  double lr, beta1, beta2, eps, weight_decay;
  double bias_correction1;       // 1 − β1ᵗ
  double bias_correction2_sqrt;  // √(1 − β2ᵗ)
  double grad_scale;             // the clipping coefficient, 1 when not clipping
};

struct Kernels {
  // ---- memory ----
  void* (*alloc)(size_t nbytes);
  void (*free)(void* p);
  // dst = src elementwise with dtype conversion; any strides; same shape; same device.
  void (*copy)(const Tensor& src, const Tensor& dst);
  void (*fill)(const Tensor& dst, double value);  // any strides
  // dst (contiguous) = U[0,1) or N(0,1) from Philox(seed) at counters offset + i.
  void (*random)(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal);
  void (*arange)(const Tensor& dst, double begin);  // dst[i] = begin + i, dst contiguous 1-D
  void (*synchronize)();  // waits for every queued kernel (a no-op where kernels are synchronous)

  // ---- elementwise (inputs broadcast to out's shape via stride-0 views) ----
  void (*unary)(UnaryOp op, const Tensor& x, double s, const Tensor& y);
  // gx = gy * dy/dx, all of one shape
  void (*unary_backward)(UnaryOp op, const Tensor& x, const Tensor& y, double s,
                         const Tensor& gy, const Tensor& gx);
  void (*binary)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
  // ga = gy * dy/da, gb = gy * dy/db over out's shape (either may be undefined: skipped)
  void (*binary_backward)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& y,
                          const Tensor& gy, const Tensor& ga, const Tensor& gb);
  void (*compare)(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);  // u8
  // out = cond ? a : b (cond u8)
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

  // ---- reduction of the middle dim of a contiguous x seen as (A, R, N) -> out (A, N) ----
  // (N = 1: rows; A = 1: columns, e.g. a bias gradient summed over all B·T positions)
  void (*reduce)(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t N, const Tensor& out);

  // ---- matmul: out[i] = a[i] @ b[i] (+ out[i] if accumulate) ----
  // a (n, M, K), b (n, K, N), out (n, M, N) contiguous; a and b may be any 3-D strided views
  // whose matrices have a unit stride in one of their two dims.
  void (*bmm)(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate);

  // ---- row-wise ops over the last dim of contiguous (N, C) tensors ----
  void (*softmax)(const Tensor& x, const Tensor& y, bool log);
  void (*softmax_backward)(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log);
  // y = (x - mean) * rstd * w + b; saves mean, rstd (N). w, b may be undefined.
  void (*layer_norm)(const Tensor& x, const Tensor& w, const Tensor& b, double eps,
                     const Tensor& y, const Tensor& mean, const Tensor& rstd);
  // gw, gb (C) are overwritten; either may be undefined.
  void (*layer_norm_backward)(const Tensor& x, const Tensor& w, const Tensor& mean,
                              const Tensor& rstd, const Tensor& gy, const Tensor& gx,
                              const Tensor& gw, const Tensor& gb);
  // losses (N) = logsumexp(logits[n]) - logits[n, t[n]]; lse (N) saved
  void (*cross_entropy)(const Tensor& logits, const Tensor& targets, const Tensor& losses,
                        const Tensor& lse);
  // glogits = (softmax(logits) - onehot(t)) * gloss[n]
  void (*cross_entropy_backward)(const Tensor& logits, const Tensor& targets,
                                 const Tensor& lse, const Tensor& gloss, const Tensor& glogits);

  // ---- optimizer: contiguous tensors of one dtype, updated in place ----
  double (*sum_squares)(const Tensor& x);  // Σ x², accumulated in double
  void (*adamw)(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamWStep& s);

  // ---- gather / scatter ----
  // out (N, D) = weight[idx[n]]; idx (N) any integer dtype, already range-checked
  void (*embedding)(const Tensor& weight, const Tensor& idx, const Tensor& out);
  // gweight (V, D) += gy[n] at row idx[n]
  void (*embedding_backward)(const Tensor& idx, const Tensor& gy, const Tensor& gweight);

  // ---- causal convolution as a GEMM: unfold and fold back ----
  // cols (B, T, C·K)[b, t, c·K + k] = x (B, T, C)[b, t − (K−1) + k, c], 0 before the start
  void (*unfold_causal)(const Tensor& x, int64_t K, const Tensor& cols);
  // gx (B, T, C) = the sum of gcols over every place unfold_causal copied each element to
  void (*fold_causal)(const Tensor& gcols, int64_t K, const Tensor& gx);

  // ---- fused causal attention over (B, H, T, D): q, k, v, out and the gradients are views
  // whose last dim has stride 1 and whose other dims may have any strides (heads are read from
  // and written into a packed (B, T, 3, H, D) tensor or a KV cache in place); lse contiguous.
  // The CUDA kernels take head widths up to 256. ----
  // out = softmax(q kᵀ * scale + causal mask) v without a T x T matrix; lse (B, H, Tq) saved.
  // Tq <= Tk: query i sits at position Tk − Tq + i (new tokens against a KV cache).
  void (*attention)(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                    const Tensor& out, const Tensor& lse);
  void (*attention_backward)(const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& out, const Tensor& lse, const Tensor& gout,
                             double scale, const Tensor& gq, const Tensor& gk,
                             const Tensor& gv);
};

const Kernels& cpu_kernels();  // tensor/cpu/kernels.cpp

// The table for a device; throws if that backend is not built or has no device.
const Kernels& kernels(Device d);
void register_backend(Device d, const Kernels* k);
bool backend_available(Device d);

// Copies between devices (contiguous, same dtype); provided by a non-CPU backend.
using CrossDeviceCopy = void (*)(const Tensor& src, const Tensor& dst);
void register_cross_device_copy(CrossDeviceCopy f);
void copy_across_devices(const Tensor& src, const Tensor& dst);

}  // namespace mb
