// The layers of a pre-norm decoder-only transformer. Parameter names and layouts follow
// PyTorch (a Linear weight is (out, in), y = x Wᵀ + b), as the reference fixtures pin them
// (tests/fixtures/README.md).
//
// Shapes: B batch, T positions, d width, h heads.
#pragma once
#include <array>
#include <memory>

#include "nn/module.h"

namespace mb::nn {

enum class Activation { relu, gelu };  // gelu: the exact erf form
// The dtype the transformer stacks compute in (set_compute_dtype below): fp32, or bf16 on CUDA.
enum class Precision { fp32, bf16 };
inline DType compute_dtype(Precision p) { return p == Precision::bf16 ? DType::BF16 : DType::F32; }

}  // namespace mb::nn

namespace mb {
template <> struct EnumNames<nn::Activation> {
  static constexpr std::pair<nn::Activation, const char*> table[] = {{nn::Activation::relu, "relu"}, {nn::Activation::gelu, "gelu"}};
};
template <> struct EnumNames<nn::Precision> {
  static constexpr std::pair<nn::Precision, const char*> table[] = {{nn::Precision::fp32, "fp32"}, {nn::Precision::bf16, "bf16"}};
};
}  // namespace mb

namespace mb::nn {

// Mixed precision (`set_compute_dtype(model, BF16)`, CUDA only: the CPU computes in f32 and
// f64): a Linear whose matmul_dtype is BF16 computes its GEMM on bf16 copies of x, W and b (f32
// accumulation), and a Transformer whose stream_dtype is BF16 carries its residual stream in
// bf16 from its input to its final LayerNorm: every block's LayerNorm (f32 statistics), GEMMs,
// attention (tensor cores, f32 statistics), activations and residual adds read and write bf16,
// and the stack returns f32 to the embeddings, head and loss around it. Parameters stay f32
// (the master copy AdamW updates) and are cast where they are used; gradients flow back
// through every cast. Default F32: no casts.
struct Linear : Module {
  Tensor weight, bias;  // (out, in), (out) or undefined
  DType matmul_dtype = DType::F32;
  Tensor weight_bf16;   // weight's values in bf16, for decoding (round_weights_to_bf16); not a parameter
  Linear(int64_t in, int64_t out, bool with_bias = true);
  // (..., in) -> (..., out) in x's dtype; relu: max(·, 0) in the same op (the GEMM's epilogue)
  Tensor forward(const Tensor& x, bool relu = false) const;
  Tensor forward_compute(const Tensor& x, bool relu = false) const;  // in the compute dtype (no cast back)
};

struct LayerNorm : Module {
  Tensor weight, bias;  // (d), ones and zeros
  double eps;
  explicit LayerNorm(int64_t d, double eps = kLayerNormEps);
  Tensor forward(const Tensor& x) const;  // over the last dim
};

// Keys and values of the positions seen so far, for incremental decoding: k, v are
// (B, h, capacity, d/h), of which the first `len` positions are filled. With cross-patch
// attention k holds the rotated keys and raw_k the keys before rotation.
struct KVCache {
  Tensor k, v, raw_k;
  int64_t len = 0;
};

// While one lives, every CausalSelfAttention::forward (prefix 0) also appends its attention
// probabilities softmax(q kᵀ/√(d/h) + causal mask), (B, h, T, T), in call order: what
// `megabyte explain` draws. Outside one, nothing is computed (the fused op never forms them).
struct AttentionRecorder {
  std::vector<Tensor> probs;
  AttentionRecorder();
  ~AttentionRecorder();
  AttentionRecorder(const AttentionRecorder&) = delete;
  AttentionRecorder& operator=(const AttentionRecorder&) = delete;
};

// Fused QKV: rows [0,d) of qkv.weight make Q, [d,2d) K, [2d,3d) V; head j uses rows
// j·d/h … (j+1)·d/h − 1 of each; scores scaled by 1/√(d/h); causal.
//
// Cross-patch attention (`prefix` = r > 0; the paper's §2.3.2 for the local model): the batch
// holds consecutive groups of `group` sequences (the K patches of one input), and each also
// attends to the last r keys and values of the sequence before it in its group (zeros for the
// first), with rotary position embeddings on queries and keys (the prefix at positions
// 0 … r−1, the sequence at r … r+T−1).
struct CausalSelfAttention : Module {
  int64_t heads;
  int64_t prefix = 0;
  Linear qkv, proj;
  CausalSelfAttention(int64_t d, int64_t heads);
  Tensor forward(const Tensor& x, int64_t group = 1) const;  // (B, T, d) -> (B, T, d)
  // x: (B, n, d), the next n positions after the cache's len; appends their keys and values
  // (allocating `capacity` positions on first use) and attends over all cached positions.
  Tensor forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const;
  // Cross-patch decoding: makes the cache hold the next sequence's prefix (the last r keys and
  // values of the sequence it held, or zeros when it holds none) and nothing else.
  void start_group(KVCache& cache, int64_t batch, int64_t capacity, DType dtype, Device device) const;

 private:
  // (B, T, d) -> q, k, v, each (B, h, T, d/h) (views into one (B, T, 3d) tensor)
  std::array<Tensor, 3> project(const Tensor& x) const;
  Tensor merge_heads(const Tensor& y) const;  // (B, h, T, d/h) -> proj((B, T, d))
  // t (B·group, h, T, d/h) -> the last r positions of the sequence before, zeros for the first
  Tensor previous_tail(const Tensor& t, int64_t group) const;
  void allocate(KVCache& cache, int64_t batch, int64_t capacity, int64_t dh, DType dtype, Device device) const;
};

struct MLP : Module {
  Linear fc1, fc2;  // d -> 4d -> d
  Activation act;
  MLP(int64_t d, Activation act);
  Tensor forward(const Tensor& x) const;
};

// What every block of a stack shares besides its sizes.
struct BlockOptions {
  Activation act = Activation::relu;
  double dropout = 0;   // probability, after attention and after the MLP
  double ln_eps = kLayerNormEps;  // of every LayerNorm of the stack, ln_f included
};

// x = x + drop(attn(ln1(x))); x = x + drop(mlp(ln2(x))). The full pass and the cached pass are
// one body (nn/layers.cpp) that differs only in how it attends; the CPU's one-position
// decoding step (nn/step.cpp) is the same block once more in plain loops, kept apart for speed.
struct Block : Module {
  LayerNorm ln1;
  CausalSelfAttention attn;
  LayerNorm ln2;
  MLP mlp;
  double dropout;
  Block(int64_t d, int64_t heads, const BlockOptions& o);
  Tensor forward(const Tensor& x, DropoutStream* drop, int64_t group = 1) const;
  Tensor forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const;  // no dropout
};

// blocks.0 … blocks.{L-1}, then ln_f. Block i draws its dropout from drop->fork(i). With
// `recompute`, each block keeps only its input during training and runs again in backward
// (autograd/checkpoint.h): activation memory per block drops from ~18 to 1 (B, T, d) tensor.
struct Transformer : Module {
  std::vector<std::unique_ptr<Block>> blocks;
  LayerNorm ln_f;
  bool recompute = false;
  DType stream_dtype = DType::F32;  // the residual stream's dtype inside the stack (mixed precision)
  Transformer(int64_t d, int64_t layers, int64_t heads, const BlockOptions& o);
  // (B, T, d) -> (B, T, d); `group`: see CausalSelfAttention (cross-patch attention)
  Tensor forward(const Tensor& x, DropoutStream* drop, int64_t group = 1) const;
  // The next positions of a sequence whose earlier ones are in `caches` (one per block,
  // resized on first use): the same outputs as forward() over the whole sequence would give.
  // (Decoding calls nn::decode (nn/step.h), which takes the one-position step where it fits.)
  Tensor forward_cached(const Tensor& x, std::vector<KVCache>& caches, int64_t capacity) const;
  // cross-patch decoding: every block's cache starts the next sequence (CausalSelfAttention)
  void start_group(std::vector<KVCache>& caches, int64_t batch, int64_t capacity, DType dtype, Device device) const;
  void set_prefix(int64_t r);  // cross-patch attention in every block
};

// Mixed precision for everything inside m: matmul_dtype of every Linear, stream_dtype of every
// Transformer (F32 or BF16).
void set_compute_dtype(Module& m, DType d);

// Decoding with bf16 weights (`generate --weights bf16`): every Linear's weight inside m is
// rounded to bf16 in place, so every path (the batched prompt pass, the one-position step,
// evaluation) computes with the same values, and kept a second time as bf16 (weight_bf16),
// which the CPU's one-position step (nn/step.cpp) reads instead: half the bytes, the arithmetic
// still f32. For inference only: training updates weight, not its copy.
void round_weights_to_bf16(Module& m);

}  // namespace mb::nn
