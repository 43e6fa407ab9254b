// The layers of a pre-norm decoder-only transformer. Parameter names and layouts follow
// PyTorch (a Linear weight is (out, in), y = x Wᵀ + b), as ../shared/reference pins them.
//
// Shapes: B batch, T positions, d width, h heads.
#pragma once
#include <array>
#include <memory>

#include "nn/module.h"

namespace mb::nn {

enum class Activation { relu, gelu };  // gelu: the exact erf form
Activation activation_from_name(const std::string& s);
const char* activation_name(Activation a);

struct Linear : Module {
  Tensor weight, bias;  // (out, in), (out) or undefined
  Linear(int64_t in, int64_t out, bool with_bias = true);
  Tensor forward(const Tensor& x) const;  // (..., in) -> (..., out)
};

struct LayerNorm : Module {
  Tensor weight, bias;  // (d), ones and zeros
  double eps;
  explicit LayerNorm(int64_t d, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;  // over the last dim
};

// Keys and values of the positions seen so far, for incremental decoding: k, v are
// (B, h, capacity, d/h), of which the first `len` positions are filled.
struct KVCache {
  Tensor k, v;
  int64_t len = 0;
};

// Fused QKV: rows [0,d) of qkv.weight make Q, [d,2d) K, [2d,3d) V; head j uses rows
// j·d/h … (j+1)·d/h − 1 of each; scores scaled by 1/√(d/h); causal.
struct CausalSelfAttention : Module {
  int64_t heads;
  Linear qkv, proj;
  CausalSelfAttention(int64_t d, int64_t heads);
  Tensor forward(const Tensor& x) const;  // (B, T, d) -> (B, T, d)
  // x: (B, n, d), the next n positions after the cache's len; appends their keys and values
  // (allocating `capacity` positions on first use) and attends over all cached positions.
  Tensor forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const;

 private:
  // (B, T, d) -> q, k, v, each (B, h, T, d/h) (views into one (B, T, 3d) tensor)
  std::array<Tensor, 3> project(const Tensor& x) const;
  Tensor merge_heads(const Tensor& y) const;  // (B, h, T, d/h) -> proj((B, T, d))
};

struct MLP : Module {
  Linear fc1, fc2;  // d -> 4d -> d
  Activation act;
  MLP(int64_t d, Activation act);
  Tensor forward(const Tensor& x) const;
};

// x = x + drop(attn(ln1(x))); x = x + drop(mlp(ln2(x)))
struct Block : Module {
  LayerNorm ln1;
  CausalSelfAttention attn;
  LayerNorm ln2;
  MLP mlp;
  double dropout;
  Block(int64_t d, int64_t heads, Activation act, double dropout);
  Tensor forward(const Tensor& x, DropoutStream* drop) const;
  Tensor forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const;  // no dropout
};

// blocks.0 … blocks.{L-1}, then ln_f. Block i draws its dropout from drop->fork(i). With
// `recompute`, each block keeps only its input during training and runs again in backward
// (autograd/checkpoint.h): activation memory per block drops from ~18 to 1 (B, T, d) tensor.
struct Transformer : Module {
  std::vector<std::unique_ptr<Block>> blocks;
  LayerNorm ln_f;
  bool recompute = false;
  Transformer(int64_t d, int64_t layers, int64_t heads, Activation act, double dropout);
  Tensor forward(const Tensor& x, DropoutStream* drop) const;  // (B, T, d) -> (B, T, d)
  // The next positions of a sequence whose earlier ones are in `caches` (one per block,
  // resized on first use): the same outputs as forward() over the whole sequence would give.
  Tensor forward_cached(const Tensor& x, std::vector<KVCache>& caches, int64_t capacity) const;
};

}  // namespace mb::nn
