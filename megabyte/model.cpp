#include "megabyte/model.h"

#include <cmath>

#include "megabyte/spacebyte.h"
#include "nn/step.h"

namespace mb {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

Tensor ByteModel::loss(const Tensor& x, nn::DropoutStream* drop) const {
  return cross_entropy(forward(x, drop), x);
}

void ByteModel::init_parameters(uint64_t seed) {
  NoGradGuard no_grad;
  uint64_t offset = 0;
  for (auto& [name, p] : named_parameters()) {
    const bool norm_weight = ends_with(name, "ln1.weight") || ends_with(name, "ln2.weight") ||
                             ends_with(name, "ln_f.weight");
    if (norm_weight) fill_(*p, 1.0);
    else if (ends_with(name, ".bias")) fill_(*p, 0.0);
    else if (cfg_.init_trunc > 0) nn::trunc_normal_(*p, cfg_.init_std, cfg_.init_trunc, seed, offset);
    else nn::normal_(*p, cfg_.init_std, seed, offset);
  }
}

Device ByteModel::device() const {
  // (Module::parameters is not const: it hands out pointers the optimizer writes through)
  return const_cast<ByteModel*>(this)->parameters().front()->device();
}

void ByteModel::check_input(const Tensor& x) const {
  MB_CHECK(x.dim() == 2 && is_integral(x.dtype()), "model: input must be (batch, T) bytes, got ",
           to_string(x.shape()), " ", dtype_name(x.dtype()));
  MB_CHECK(x.size(1) >= 1 && x.size(1) <= cfg_.seq, "model: input has ", x.size(1),
           " bytes per row, the model takes 1 to ", cfg_.seq);
  MB_CHECK(x.size(1) % cfg_.align() == 0, "model: input length ", x.size(1),
           " is not a multiple of the patch size ", cfg_.patch);
}

nn::BlockOptions block_options(const Config& c) { return {c.act, c.dropout, c.ln_eps}; }

Tensor shift_within(const Tensor& x, int64_t span, int64_t by) {
  const int64_t runs = x.numel() / span;
  const Tensor xs = reshape(x, {runs, span});
  return reshape(concat({Tensor::full({runs, by}, double(Config::vocab), DType::I64, x.device()), narrow(xs, 1, 0, span - by)}, 1),
                 x.shape());
}

// ---------------------------------------------------------------- MEGABYTE

MidLevel::MidLevel(const MidStage& m, int64_t d_above, int64_t span, const Config& c)
    : from_above(d_above, m.dim / m.patch, false),
      byte_embed(Tensor::zeros({Config::vocab + 1, m.dim / m.patch})),
      pos_embed(Tensor::zeros({span, m.dim / m.patch})),
      body(m.dim, m.layers, m.heads, block_options(c)) {
  register_module("from_above", from_above);
  register_parameter("byte_embed", byte_embed);
  register_parameter("pos_embed", pos_embed);
  register_module("", body);
}

Tensor MidLevel::inputs(const Tensor& ctx, const Tensor& prev, int64_t first) const {
  return add(add(from_above.forward(ctx), embedding(byte_embed, prev)), narrow(pos_embed, 0, first, prev.size(-1)));
}

Tensor MidLevel::step(const Tensor& ctx, const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches,
                      int64_t capacity) const {
  const Tensor h = inputs(ctx, prev, first);  // (1, n, d)
  const int64_t width = body.ln_f.weight.size(0), units = h.size(1) * h.size(2) / width;
  return nn::decode(body, reshape(h, {1, units, width}), caches, capacity);
}

Megabyte::Megabyte(const Config& c)
    : ByteModel(c),
      global_byte_embed(Tensor::zeros({Config::vocab, c.dg()})),
      global_pos_embed(Tensor::zeros({c.seq, c.dg()})),
      global_pad(Tensor::zeros({c.gdim})),
      global(c.gdim, c.glayers, c.gheads, block_options(c)),
      global_to_local(c.mids.empty() ? c.dg() : c.mids.back().dim / c.mids.back().patch, c.ldim, false),
      local_byte_embed(Tensor::zeros({Config::vocab + 1, c.ldim})),
      local(c.ldim, c.llayers, c.lheads, block_options(c)) {
  register_parameter("global.byte_embed", global_byte_embed);
  register_parameter("global.pos_embed", global_pos_embed);
  register_parameter("global.pad", global_pad);
  if (c.conv)
    for (int64_t i = 0, k = 3; i < 3; ++i, k += 2) {  // kernel sizes 3, 5, 7
      conv_weight.push_back(std::make_unique<Tensor>(Tensor::zeros({c.dg(), c.dg(), k})));
      conv_bias.push_back(std::make_unique<Tensor>(Tensor::zeros({c.dg()})));
      register_parameter("global.conv." + std::to_string(i) + ".weight", *conv_weight.back());
      register_parameter("global.conv." + std::to_string(i) + ".bias", *conv_bias.back());
    }
  register_module("global", global);
  for (size_t i = 0, d_above = size_t(c.dg()), span = size_t(c.patch); i < c.mids.size(); ++i) {
    mids.push_back(std::make_unique<MidLevel>(c.mids[i], int64_t(d_above), int64_t(span), c));
    register_module("mid." + std::to_string(i), *mids.back());
    d_above = size_t(c.mids[i].dim / c.mids[i].patch);
    span = size_t(c.mids[i].patch);
  }
  register_module(c.mids.empty() ? "global_to_local" : "mid_to_local", global_to_local);
  register_parameter("local.byte_embed", local_byte_embed);
  if (c.local_pos) {
    local_pos_embed = Tensor::zeros({c.local_span(), c.ldim});
    register_parameter("local.pos_embed", local_pos_embed);
  }
  register_module("local", local);
  local.set_prefix(c.cross_patch);
  if (c.head == Head::untied) {
    head = std::make_unique<nn::Linear>(c.ldim, Config::vocab);
    register_module("head", *head);
  }
  init_parameters(0);
}

Tensor Megabyte::byte_inputs(const Tensor& ids, int64_t first) const {
  Tensor h = add(embedding(global_byte_embed, ids), narrow(global_pos_embed, 0, first, ids.size(-1)));
  // the convolutional patch encoder (paper §2.3.1): causal convolutions of kernel 3, 5 and 7
  // over the byte embeddings, each added back through a ReLU
  for (size_t i = 0; i < conv_weight.size(); ++i) h = add(h, relu(conv1d_causal(h, *conv_weight[i], *conv_bias[i])));
  return h;
}

int64_t Megabyte::global_window(int64_t k0) const {
  return std::max<int64_t>(0, (std::max<int64_t>(k0, 1) - 1) * cfg_.patch - (cfg_.conv ? kConvField : 0));
}

Tensor Megabyte::global_inputs(const Tensor& x, int64_t x0, int64_t k0, int64_t k1) const {
  const int64_t B = x.size(0), P = cfg_.patch, G = cfg_.gdim, first = std::max<int64_t>(k0, 1), n = k1 - first + 1;
  std::vector<Tensor> parts;
  if (k0 == 0) parts.push_back(expand(reshape(global_pad, {1, 1, G}), {B, 1, G}));
  if (x.size(1) > 0) {
    // the bytes of patches first − 1 … k1 − 1 (none when n = 0), embedded from the conv
    // encoder's field before them on to the end of x, so that every byte embedding is in the
    // graph even where no patch uses it (K = 1: a zero gradient, as the reference has)
    const int64_t from = std::max(x0, global_window(k0)), len = x0 + x.size(1) - from;
    const Tensor h = byte_inputs(narrow(x, 1, from - x0, len), from);                  // (B, len, D_G)
    parts.push_back(reshape(narrow(h, 1, (first - 1) * P - from, n * P), {B, n, G}));  // P bytes side by side
  }
  return parts.size() == 1 ? parts[0] : concat(parts, 1);
}

Tensor Megabyte::local_inputs(const Tensor& slices, const Tensor& prev, int64_t first) const {
  const Tensor u = add(slices, embedding(local_byte_embed, prev));
  return cfg_.local_pos ? add(u, narrow(local_pos_embed, 0, first, prev.size(-1))) : u;
}

Tensor Megabyte::logits(const Tensor& v) const {
  if (head) return head->forward(v);
  const Tensor e = transpose(narrow(local_byte_embed, 0, 0, Config::vocab), 0, 1);  // (D_L, 256)
  if (local.stream_dtype != DType::BF16 || v.dtype() != DType::F32) return matmul(v, e);
  // mixed precision: the product in bf16 like the local stack's, the logits back in f32 for the loss
  return mb::to(matmul(mb::to(v, DType::BF16), mb::to(e, DType::BF16)), DType::F32);
}

Tensor Megabyte::global_step(const Tensor& x, int64_t x0, int64_t k0, int64_t k1,
                             std::vector<nn::KVCache>& caches) const {
  return nn::decode(global, global_inputs(x, x0, k0, k1), caches, cfg_.patches());
}

Tensor Megabyte::local_step(const Tensor& slices, const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches,
                            int64_t capacity) const {
  const int64_t n = prev.size(1);
  const Tensor v = nn::decode(local, local_inputs(narrow(slices, 1, first, n), prev, first), caches, capacity);  // (1, n, D_L)
  return reshape(logits(narrow(v, 1, n - 1, 1)), {Config::vocab});
}

Tensor Megabyte::forward(const Tensor& x_in, nn::DropoutStream* drop) const {
  check_input(x_in);
  const Tensor x = mb::to(x_in, DType::I64);
  const int64_t B = x.size(0), T = x.size(1), P = cfg_.patch, K = T / P;
  // 1-2. global input: byte + position embeddings (B, T, D_G), P of them side by side per patch,
  // shifted right by one patch: the pad patch first, the last patch dropped -> (B, K, G)
  const Tensor h = global_inputs(x, 0, 0, K - 1);
  // 3. global model over the K patches; each output's P slices are the context of its bytes
  auto stream = [drop](uint64_t i) { return drop ? drop->fork(i) : nn::DropoutStream{}; };
  nn::DropoutStream gd = stream(0), ld = stream(1);
  Tensor ctx = reshape(global.forward(h, drop ? &gd : nullptr), {B, T, cfg_.dg()});
  // 3b. deeper hierarchies: each mid level over the units of its own inside every unit above
  int64_t span = P;
  for (size_t i = 0; i < mids.size(); ++i) {
    const MidStage& m = cfg_.mids[i];
    const int64_t U = m.patch, d = m.dim / U, runs = B * T / span;
    const Tensor prev = reshape(shift_within(x, span, U), {runs, span});
    const Tensor in = reshape(mids[i]->inputs(reshape(ctx, {runs, span, -1}), prev, 0), {runs, span / U, m.dim});
    nn::DropoutStream md = stream(2 + i);
    ctx = reshape(mids[i]->body.forward(in, drop ? &md : nullptr), {B, T, d});
    span = U;
  }
  // 4. local input: the context slice -> D_L + the previous byte in the patch (pad id 256 at
  // p = 0) + the position in the patch
  const int64_t runs = B * T / span;
  const Tensor u = local_inputs(reshape(global_to_local.forward(ctx), {runs, span, cfg_.ldim}),
                                reshape(shift_within(x, span, 1), {runs, span}), 0);  // (B·K, P, D_L)
  // 5. local model over the P bytes of every patch, all B·K patches as one batch
  const Tensor v = local.forward(u, drop ? &ld : nullptr, T / span);  // the patches of a row are one group
  // 6. head: tied to the local byte embedding (rows 0..255), or an untied Linear
  return reshape(logits(v), {B, T, Config::vocab});
}

// ---------------------------------------------------------------- baseline

ByteTransformer::ByteTransformer(const Config& c)
    : ByteModel(c),
      byte_embed(Tensor::zeros({Config::vocab + 1, c.gdim})),
      pos_embed(Tensor::zeros({c.seq, c.gdim})),
      body(c.gdim, c.glayers, c.gheads, block_options(c)),
      head(c.gdim, Config::vocab) {
  register_parameter("byte_embed", byte_embed);
  register_parameter("pos_embed", pos_embed);
  register_module("", body);
  register_module("head", head);
  init_parameters(0);
}

Tensor ByteTransformer::forward(const Tensor& x_in, nn::DropoutStream* drop) const {
  check_input(x_in);
  const Tensor x = mb::to(x_in, DType::I64);
  // input shifted right by one, BOS (id 256) in front: position t sees bytes < t
  return head.forward(body.forward(inputs(shift_within(x, x.size(1), 1), 0), drop));
}

Tensor ByteTransformer::inputs(const Tensor& prev, int64_t first) const {
  return add(embedding(byte_embed, prev), narrow(pos_embed, 0, first, prev.size(-1)));
}

Tensor ByteTransformer::step(const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches) const {
  const int64_t n = prev.size(1);
  const Tensor h = nn::decode(body, inputs(prev, first), caches, cfg_.seq);
  return reshape(head.forward(narrow(h, 1, n - 1, 1)), {Config::vocab});
}

std::unique_ptr<ByteModel> make_model(const Config& c) {
  if (c.is_baseline()) return std::make_unique<ByteTransformer>(c);
  if (c.is_spacebyte()) return std::make_unique<SpaceByte>(c);
  return std::make_unique<Megabyte>(c);
}

Tensor entropy_bits(const Tensor& logits) {
  const Tensor lp = log_softmax(to(logits, DType::F64));
  return mul_scalar(sum(mul(exp(lp), lp), {-1}), -1 / std::log(2.0));
}

}  // namespace mb
