#include "nn/layers.h"

#include <cmath>

#include "autograd/checkpoint.h"

namespace mb::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : weight(Tensor::zeros({out, in})) {
  register_parameter("weight", weight);
  if (with_bias) {
    bias = Tensor::zeros({out});
    register_parameter("bias", bias);
  }
}

void set_compute_dtype(Module& m, DType d) {
  m.apply([d](Module& child) {
    if (auto* lin = dynamic_cast<Linear*>(&child)) lin->matmul_dtype = d;
    if (auto* t = dynamic_cast<Transformer*>(&child)) t->stream_dtype = d;
  });
}

namespace {
Tensor as_dtype(const Tensor& t, DType d) { return !t.defined() || t.dtype() == d ? t : mb::to(t, d); }
}  // namespace

void round_weights_to_bf16(Module& m) {
  NoGradGuard no_grad;
  m.apply([](Module& child) {
    auto* lin = dynamic_cast<Linear*>(&child);
    if (!lin || lin->weight.dtype() != DType::F32) return;
    lin->weight_bf16 = mb::to(lin->weight, DType::BF16);
    copy_(lin->weight, lin->weight_bf16);
  });
}

// bf16 when x is bf16 (a bf16 stream) or this Linear computes in bf16; x's dtype otherwise
Tensor Linear::forward_compute(const Tensor& x, bool relu) const {
  const bool bf16 = x.dtype() == DType::BF16 || (matmul_dtype == DType::BF16 && x.dtype() == DType::F32);
  const DType d = bf16 ? DType::BF16 : x.dtype();
  return (relu ? linear_relu : linear)(as_dtype(x, d), as_dtype(weight, d), as_dtype(bias, d));
}

Tensor Linear::forward(const Tensor& x, bool relu) const { return as_dtype(forward_compute(x, relu), x.dtype()); }

LayerNorm::LayerNorm(int64_t d, double eps_) : weight(Tensor::ones({d})), bias(Tensor::zeros({d})), eps(eps_) {
  register_parameter("weight", weight);
  register_parameter("bias", bias);
}

Tensor LayerNorm::forward(const Tensor& x) const {
  return layer_norm(x, as_dtype(weight, x.dtype()), as_dtype(bias, x.dtype()), eps);
}

CausalSelfAttention::CausalSelfAttention(int64_t d, int64_t h) : heads(h), qkv(d, 3 * d), proj(d, d) {
  MB_CHECK(h > 0 && d % h == 0, "attention: width ", d, " is not divisible by ", h, " heads");
  register_module("qkv", qkv);
  register_module("proj", proj);
}

std::array<Tensor, 3> CausalSelfAttention::project(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2);
  // (B, T, 3d) -> (B, T, 3, h, d/h) -> (3, B, h, T, d/h)
  const Tensor qkv5 = permute(reshape(qkv.forward(x), {B, T, 3, heads, d / heads}), {2, 0, 3, 1, 4});
  return {select(qkv5, 0, 0), select(qkv5, 0, 1), select(qkv5, 0, 2)};
}

Tensor CausalSelfAttention::merge_heads(const Tensor& y) const {
  const int64_t B = y.size(0), T = y.size(2), d = y.size(1) * y.size(3);
  // (B, h, T, d/h) -> (B, T, h, d/h) -> (B, T, d)
  return proj.forward(reshape(transpose(y, 1, 2), {B, T, d}));
}

namespace {
AttentionRecorder* g_recorder = nullptr;
// softmax(q kᵀ/√D with future keys at -inf): q, k (B, h, T, D) -> (B, h, T, T)
Tensor attention_probs(const Tensor& q, const Tensor& k) {
  const int64_t T = q.size(2);
  const Tensor s = mul_scalar(matmul(q, transpose(k, -1, -2)), 1.0 / std::sqrt(double(q.size(3))));
  const Tensor qi = reshape(to(Tensor::arange(0, T), q.dtype()), {T, 1}), kj = reshape(to(Tensor::arange(0, T), q.dtype()), {1, T});
  return softmax(masked_fill(s, to(gt(kj, qi), q.device()), -1e30), -1);
}
}  // namespace
AttentionRecorder::AttentionRecorder() { g_recorder = this; }
AttentionRecorder::~AttentionRecorder() { g_recorder = nullptr; }

Tensor CausalSelfAttention::forward(const Tensor& x, int64_t group) const {
  if (g_recorder && prefix == 0) {
    NoGradGuard no_grad;
    const auto [q, k, v] = project(x);
    g_recorder->probs.push_back(attention_probs(q, k));
  }
  if (prefix == 0) {  // in bf16 (tensor cores) when the projections compute in bf16
    const Tensor y = attention_qkv(qkv.forward_compute(x), heads);
    return proj.forward(as_dtype(y, x.dtype()));
  }
  const auto [q, k, v] = project(x);
  const Tensor keys = rope(concat({previous_tail(k, group), k}, 2), 0);
  const Tensor values = concat({previous_tail(v, group), v}, 2);
  // queries are the last T of r + T positions: the causal mask lets each see the whole prefix
  return merge_heads(attention(rope(q, prefix), keys, values));
}

Tensor CausalSelfAttention::previous_tail(const Tensor& t, int64_t group) const {
  const int64_t N = t.size(0), H = t.size(1), T = t.size(2), D = t.size(3), r = prefix;
  MB_CHECK(N % group == 0 && r <= T, "cross-patch attention: ", N, " sequences are not groups of ", group,
           ", or the prefix ", r, " is longer than a sequence of ", T);
  const Tensor tails = reshape(narrow(t, 2, T - r, r), {N / group, group, H, r, D});
  const Tensor first = Tensor::zeros({N / group, 1, H, r, D}, t.dtype(), t.device());
  return reshape(concat({first, narrow(tails, 1, 0, group - 1)}, 1), {N, H, r, D});
}

void CausalSelfAttention::allocate(KVCache& cache, int64_t batch, int64_t capacity, int64_t dh, DType dtype,
                                   Device device) const {
  const Shape s = {batch, heads, capacity, dh};
  cache.k = Tensor::empty(s, dtype, device);
  cache.v = Tensor::empty(s, dtype, device);
  if (prefix > 0) cache.raw_k = Tensor::empty(s, dtype, device);
  cache.len = 0;
}

void CausalSelfAttention::start_group(KVCache& cache, int64_t batch, int64_t capacity, DType dtype,
                                      Device device) const {
  NoGradGuard no_grad;
  const int64_t r = prefix;
  if (!cache.k.defined()) {
    allocate(cache, batch, capacity, qkv.weight.size(1) / heads, dtype, device);
    for (Tensor* t : {&cache.k, &cache.v, &cache.raw_k}) fill_(narrow(*t, 2, 0, r), 0.0);
  } else {  // the last r positions of the sequence just finished become the prefix
    const Tensor raw = clone(narrow(cache.raw_k, 2, cache.len - r, r)), v = clone(narrow(cache.v, 2, cache.len - r, r));
    copy_(narrow(cache.raw_k, 2, 0, r), raw);
    copy_(narrow(cache.k, 2, 0, r), rope(raw, 0));
    copy_(narrow(cache.v, 2, 0, r), v);
  }
  cache.len = r;
}

Tensor CausalSelfAttention::forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const {
  const auto [q, k, v] = project(x);
  const int64_t n = x.size(1), end = cache.len + n;
  if (!cache.k.defined()) allocate(cache, x.size(0), capacity, x.size(2) / heads, x.dtype(), x.device());
  MB_CHECK(end <= cache.k.size(2), "attention cache: ", end, " positions exceed its capacity ",
           cache.k.size(2));
  const int64_t at = cache.len;
  {
    NoGradGuard no_grad;
    copy_(narrow(cache.k, 2, at, n), prefix > 0 ? rope(k, at) : k);
    copy_(narrow(cache.v, 2, at, n), v);
    if (prefix > 0) copy_(narrow(cache.raw_k, 2, at, n), k);
  }
  cache.len = end;
  // the queries are the last n of `end` positions: the causal mask lines them up
  return merge_heads(attention(prefix > 0 ? rope(q, at) : q, narrow(cache.k, 2, 0, end), narrow(cache.v, 2, 0, end)));
}

MLP::MLP(int64_t d, Activation a) : fc1(d, 4 * d), fc2(4 * d, d), act(a) {
  register_module("fc1", fc1);
  register_module("fc2", fc2);
}

Tensor MLP::forward(const Tensor& x) const {
  if (act == Activation::relu) return fc2.forward(fc1.forward(x, true));  // the ReLU fused into fc1
  return fc2.forward(gelu(fc1.forward(x)));
}

Block::Block(int64_t d, int64_t heads, const BlockOptions& o)
    : ln1(d, o.ln_eps), attn(d, heads), ln2(d, o.ln_eps), mlp(d, o.act), dropout(o.dropout) {
  register_module("ln1", ln1);
  register_module("attn", attn);
  register_module("ln2", ln2);
  register_module("mlp", mlp);
}

namespace {
// The block's one body: `attend` is the attention over the whole sequence, or over the cache.
template <class Attend>
Tensor block_body(const Block& b, const Tensor& x, DropoutStream* drop, const Attend& attend) {
  auto maybe_drop = [&](const Tensor& t) {
    return drop && b.dropout > 0 && b.training() ? drop->apply(t, b.dropout) : t;
  };
  const Tensor h = add(x, maybe_drop(attend(b.ln1.forward(x))));
  return add(h, maybe_drop(b.mlp.forward(b.ln2.forward(h))));
}
}  // namespace

Tensor Block::forward(const Tensor& x, DropoutStream* drop, int64_t group) const {
  return block_body(*this, x, drop, [&](const Tensor& a) { return attn.forward(a, group); });
}

Tensor Block::forward_cached(const Tensor& x, KVCache& cache, int64_t capacity) const {
  return block_body(*this, x, nullptr, [&](const Tensor& a) { return attn.forward_cached(a, cache, capacity); });
}

Transformer::Transformer(int64_t d, int64_t layers, int64_t heads, const BlockOptions& o) : ln_f(d, o.ln_eps) {
  for (int64_t i = 0; i < layers; ++i) {
    blocks.push_back(std::make_unique<Block>(d, heads, o));
    register_module("blocks." + std::to_string(i), *blocks.back());
  }
  register_module("ln_f", ln_f);
}

Tensor Transformer::forward(const Tensor& x, DropoutStream* drop, int64_t group) const {
  Tensor h = stream_dtype == DType::BF16 ? as_dtype(x, DType::BF16) : x;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block* b = blocks[i].get();
    const DropoutStream stream = drop ? drop->fork(i) : DropoutStream{};
    const bool dropping = drop != nullptr;
    auto run = [b, stream, dropping, group](const std::vector<Tensor>& in) {
      DropoutStream s = stream;  // a fresh copy each time: a recomputation replays the masks
      return b->forward(in[0], dropping ? &s : nullptr, group);
    };
    h = recompute && grad_enabled() ? checkpoint(run, {h}) : run({h});
  }
  return as_dtype(ln_f.forward(h), x.dtype());
}

void Transformer::start_group(std::vector<KVCache>& caches, int64_t batch, int64_t capacity, DType dtype,
                              Device device) const {
  caches.resize(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i]->attn.start_group(caches[i], batch, capacity, dtype, device);
}

void Transformer::set_prefix(int64_t r) {
  for (auto& b : blocks) b->attn.prefix = r;
}

Tensor Transformer::forward_cached(const Tensor& x, std::vector<KVCache>& caches, int64_t capacity) const {
  caches.resize(blocks.size());
  Tensor h = x;
  for (size_t i = 0; i < blocks.size(); ++i) h = blocks[i]->forward_cached(h, caches[i], capacity);
  return ln_f.forward(h);
}

}  // namespace mb::nn
