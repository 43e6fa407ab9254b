#include "megabyte/spacebyte.h"

#include <filesystem>

#include "megabyte/checkpoint.h"
#include "megabyte/zoo.h"
#include "tensor/error.h"

namespace mb {

namespace {
// (B, T, d) through the blocks; block i of stack `part` draws dropout from drop->fork(part).fork(i)
Tensor run(const std::vector<std::unique_ptr<nn::Block>>& blocks, Tensor h, nn::DropoutStream* drop, uint64_t part) {
  for (size_t i = 0; i < blocks.size(); ++i) {
    nn::DropoutStream d;
    if (drop) d = drop->fork(part).fork(i);
    h = blocks[i]->forward(h, drop ? &d : nullptr);
  }
  return h;
}
}  // namespace

std::unique_ptr<ByteModel> load_entropy_model(const Config& c) {
  const std::string& name = c.entropy_model;
  std::unique_ptr<ByteModel> entropy;
  std::error_code ec;
  MB_CHECK(!std::filesystem::is_directory(name, ec), "spacebyte: its entropy model '", name, "' is a folder: name a ",
           "checkpoint file in it (a run's checkpoints change as it trains), or a zoo model");
  try {
    entropy = load_model(model_file(name));
  } catch (const Error& e) {
    throw Error(cat("spacebyte: its entropy model '", name, "' (config entropy_model: a zoo model's name or a checkpoint "
                    "file) does not load: ", e.what()));
  }
  entropy->train(false);
  const Config& e = entropy->config();
  MB_CHECK(!(e.is_spacebyte() && e.patcher == PatchRule::entropy), "spacebyte: the entropy model ", name,
           " places its own patches by entropy; it must be a model that does not");
  MB_CHECK(e.seq >= c.seq, "spacebyte: the entropy model ", name, " reads ", e.seq, " bytes, fewer than T = ",
           c.seq, " (it must see every window whole)");
  return entropy;
}

SpaceByte::SpaceByte(const Config& c)
    : ByteModel(c),
      byte_embed(Tensor::zeros({Config::vocab + 1, c.ldim})),
      pos_embed(Tensor::zeros({c.seq, c.ldim})),
      ln_f(c.ldim, c.ln_eps) {
  register_parameter("byte_embed", byte_embed);
  register_parameter("pos_embed", pos_embed);
  // blocks name.0 … name.{n−1} of width d
  auto add_blocks = [&](std::vector<std::unique_ptr<nn::Block>>& blocks, const std::string& name, int64_t n, int64_t d,
                        int64_t heads) {
    for (int64_t i = 0; i < n; ++i) {
      blocks.push_back(std::make_unique<nn::Block>(d, heads, block_options(c)));
      register_module(cat(name, ".", i), *blocks.back());
    }
  };
  add_blocks(local_in, "local_in", c.llayers - c.llayers / 2, c.ldim, c.lheads);
  add_blocks(global, "global", c.glayers, c.gdim, c.gheads);
  add_blocks(local_out, "local_out", c.llayers / 2, c.ldim, c.lheads);
  register_module("ln_f", ln_f);
  if (c.head == Head::untied) {
    head = std::make_unique<nn::Linear>(c.ldim, Config::vocab);
    register_module("head", *head);
  }
  init_parameters(0);
  if (c.patcher == PatchRule::entropy) entropy_ = load_entropy_model(c);
}

void SpaceByte::set_recompute(bool on) {
  MB_CHECK(!on, "spacebyte: activation recomputation is not built for this model yet");
}

const ByteModel& SpaceByte::entropy_model(Device device) const {
  MB_CHECK(entropy_, "spacebyte: this model's patcher is ", name_of(cfg_.patcher), ", not entropy");
  if (entropy_->device() != device) entropy_->to(device);
  return *entropy_;
}

std::vector<double> SpaceByte::entropies(const Tensor& x) const {
  const ByteModel& e = entropy_model(x.device());
  MB_CHECK(cfg_.entropy_theta > 0, "spacebyte: the entropy threshold is not chosen (config entropy_theta 0): `megabyte ",
           "train` chooses it for --entropy-mean, or give --entropy-theta");
  NoGradGuard no_grad;
  // the entropy model takes whole patches: zeros after the row's end, which causality hides
  const int64_t B = x.size(0), T = x.size(1), align = e.config().align(), padded = (T + align - 1) / align * align;
  Tensor xe = mb::to(x, DType::I64);
  if (padded > T) xe = concat({xe, Tensor::zeros({B, padded - T}, DType::I64, x.device())}, 1);
  return mb::to(entropy_bits(narrow(e.forward(xe), 1, 0, T)), Device::CPU).to_vector<double>();
}

bool SpaceByte::cut(const uint8_t* bytes, const double* H, int64_t t) const {
  switch (cfg_.patcher) {
    case PatchRule::space: return space_cut(bytes, t);
    case PatchRule::entropy: return entropy_cut(H, t, cfg_.entropy_theta, cfg_.entropy_rule);
    case PatchRule::fixed: break;
  }
  return false;
}

std::vector<std::vector<int64_t>> SpaceByte::starts(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1);
  const std::vector<int64_t> ids = mb::to(mb::to(x, DType::I64), Device::CPU).to_vector<int64_t>();
  const std::vector<uint8_t> bytes(ids.begin(), ids.end());
  const std::vector<double> H = cfg_.patcher == PatchRule::entropy ? entropies(x) : std::vector<double>();
  std::vector<std::vector<int64_t>> s(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    PatchCutter cutter(cfg_.patch);
    for (int64_t t = 0; t < T; ++t)
      if (cutter.start_at(t, t > 0 && cut(bytes.data() + b * T, H.empty() ? nullptr : H.data() + b * T, t)))
        s[size_t(b)].push_back(t);
  }
  return s;
}

std::vector<int64_t> SpaceByte::starts(const std::vector<uint8_t>& bytes) const {
  return starts(mb::to(Tensor::from_vector(bytes, {1, int64_t(bytes.size())}), device())).front();
}

Tensor SpaceByte::widen(const Tensor& h) const {
  if (cfg_.gdim == cfg_.ldim) return h;
  Shape pad = h.shape();
  pad.back() = cfg_.gdim - cfg_.ldim;
  return concat({h, Tensor::zeros(pad, h.dtype(), h.device())}, h.dim() - 1);
}

Tensor SpaceByte::narrow_to_local(const Tensor& g) const {
  return cfg_.gdim == cfg_.ldim ? g : narrow(g, g.dim() - 1, 0, cfg_.ldim);
}

Tensor SpaceByte::logits(const Tensor& h) const {
  const Tensor y = ln_f.forward(h);
  return head ? head->forward(y) : linear(y, narrow(byte_embed, 0, 0, Config::vocab));
}

Tensor SpaceByte::forward(const Tensor& x_in, nn::DropoutStream* drop) const {
  check_input(x_in);
  const Tensor x = mb::to(x_in, DType::I64);
  const int64_t B = x.size(0), T = x.size(1), D = cfg_.ldim;
  // 1. the stream: byte t − 1 (BOS at t = 0) and position t, then the first local blocks
  Tensor h = add(embedding(byte_embed, shift_within(x, T, 1)), narrow(pos_embed, 0, 0, T));  // (B, T, D_L)
  h = run(local_in, h, drop, 0);
  // 2. each row's patch starts; the global sequence of row b is its K_b starts, padded to the
  // longest row's K with row b's position 0 (after the real ones: causality hides it); the
  // padding's outputs go to a spare row B·T that is dropped
  const std::vector<std::vector<int64_t>> s = starts(x);
  size_t K = 0;
  for (const auto& row : s) K = std::max(K, row.size());
  std::vector<int64_t> gather, scatter;
  for (int64_t b = 0; b < B; ++b)
    for (size_t k = 0; k < K; ++k) {
      const bool real = k < s[size_t(b)].size();
      gather.push_back(b * T + (real ? s[size_t(b)][k] : 0));
      scatter.push_back(real ? b * T + s[size_t(b)][k] : B * T);
    }
  const int64_t BK = B * int64_t(K);
  const Tensor gi = mb::to(Tensor::from_vector(gather, {BK}), x.device());
  const Tensor si = mb::to(Tensor::from_vector(scatter, {BK}), x.device());
  // 3. the global blocks over the starts' states, widened to G; their first D_L features back
  Tensor g = widen(reshape(embedding(reshape(h, {B * T, D}), gi), {B, int64_t(K), D}));  // (B, K, G)
  g = run(global, g, drop, 1);
  const Tensor back = scatter_add_rows(reshape(narrow_to_local(g), {BK, D}), si, B * T + 1);  // (B·T + 1, D_L)
  h = add(h, reshape(narrow(back, 0, 0, B * T), {B, T, D}));
  // 4. the last local blocks and the head
  return logits(run(local_out, h, drop, 2));
}

Tensor SpaceByte::blocks_cached(const std::vector<std::unique_ptr<nn::Block>>& blocks, Tensor h,
                                std::vector<nn::KVCache>& caches, int64_t capacity) {
  caches.resize(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) h = blocks[i]->forward_cached(h, caches[i], capacity);
  return h;
}

}  // namespace mb
