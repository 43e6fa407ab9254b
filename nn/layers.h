// The layers of a pre-norm decoder-only transformer. Parameter names and layouts follow
// PyTorch (a Linear weight is (out, in), y = x Wᵀ + b), as ../shared/reference pins them.
//
// Shapes: B batch, T positions, d width, h heads.
#pragma once
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

// Fused QKV: rows [0,d) of qkv.weight make Q, [d,2d) K, [2d,3d) V; head j uses rows
// j·d/h … (j+1)·d/h − 1 of each; scores scaled by 1/√(d/h); causal.
struct CausalSelfAttention : Module {
  int64_t heads;
  Linear qkv, proj;
  CausalSelfAttention(int64_t d, int64_t heads);
  Tensor forward(const Tensor& x) const;  // (B, T, d) -> (B, T, d)
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
};

// blocks.0 … blocks.{L-1}, then ln_f
struct Transformer : Module {
  std::vector<std::unique_ptr<Block>> blocks;
  LayerNorm ln_f;
  Transformer(int64_t d, int64_t layers, int64_t heads, Activation act, double dropout);
  Tensor forward(const Tensor& x, DropoutStream* drop) const;  // (B, T, d) -> (B, T, d)
};

}  // namespace mb::nn
