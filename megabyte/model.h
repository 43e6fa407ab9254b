// The byte models: MEGABYTE (two levels, the paper's default) and the byte-level transformer
// baseline. Both map bytes (B, T) to logits (B, T, 256), where logits[b, t] predicts x[b, t]
// from x[b, 0 .. t-1] only.
//
// docs/megabyte-forward.md walks through Megabyte::forward with the shapes at every step.
// The pieces that training and cached decoding (megabyte/generate.cpp) both run are methods
// here (byte_inputs, MidLevel::inputs, local_inputs, logits), so the two cannot drift apart.
#pragma once
#include <memory>

#include "megabyte/config.h"
#include "nn/layers.h"

namespace mb {

class ByteModel : public nn::Module {
 public:
  // Validates c first: the derived models' member initialisers divide by its sizes.
  explicit ByteModel(const Config& c) : cfg_(c) {
    c.validate();
    check_memory(4 * model_size(c).total(), "the model's weights (" + c.summary() + ")");
  }
  const Config& config() const { return cfg_; }
  Device device() const;  // where the parameters are
  // x: (B, T') bytes (u8, i32 or i64), T' <= T (a multiple of P for MEGABYTE) -> (B, T', 256)
  virtual Tensor forward(const Tensor& x, nn::DropoutStream* drop = nullptr) const = 0;
  // mean cross-entropy of predicting every byte of x, in nats (bits/byte = loss / ln 2)
  Tensor loss(const Tensor& x, nn::DropoutStream* drop = nullptr) const;
  // N(0, init_std) (truncated at init_trunc std when that is set) for weights and tables, zero
  // biases, LayerNorm weights 1, from `seed`
  void init_parameters(uint64_t seed);
  // Activation recomputation in every transformer stack (nn::Transformer::recompute).
  virtual void set_recompute(bool on) = 0;
  // Model FLOPs of one forward pass over a (B, T) batch (forward_flops_per_byte · B · T, with
  // SpaceByte's global blocks at `mean_patch` bytes a patch when given): the training step is
  // about 3x this.
  double forward_flops(int64_t batch, double mean_patch = 0) const {
    return double(batch * cfg_.seq) * forward_flops_per_byte(cfg_, mean_patch);
  }

 protected:
  void check_input(const Tensor& x) const;
  Config cfg_;
};

// A level between the global and the local model (Config::mids): per byte, the projected
// context of the level above plus the embedding of the byte one unit earlier within the
// unit above (pad row 256 at the first unit) plus a position within the unit above; the
// bytes of a unit concatenated; a causal stack over the units of each unit above.
struct MidLevel : nn::Module {
  nn::Linear from_above;  // per-byte width above -> this level's, no bias
  Tensor byte_embed;      // (257, d)
  Tensor pos_embed;       // (unit above, d)
  nn::Transformer body;   // width unit · d
  MidLevel(const MidStage& m, int64_t d_above, int64_t span, const Config& c);
  // The per-byte inputs of n bytes at positions first … first + n − 1 of their unit above:
  // ctx (R, n, d_above) the context from above, prev (R, n) the byte one unit earlier (256 at
  // the first unit) -> (R, n, d). Training (n = the unit above) and decoding (n = one unit).
  Tensor inputs(const Tensor& ctx, const Tensor& prev, int64_t first) const;
  // Decoding: whole units of those bytes (ctx (1, n, d_above), n a multiple of the unit) through
  // the caches (nn::decode) -> the units' outputs (1, n / unit, unit · d).
  Tensor step(const Tensor& ctx, const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches,
              int64_t capacity) const;
};

class Megabyte : public ByteModel {
 public:
  explicit Megabyte(const Config& c);
  Tensor forward(const Tensor& x, nn::DropoutStream* drop = nullptr) const override;
  void set_recompute(bool on) override {
    global.recompute = local.recompute = on;
    for (auto& m : mids) m->body.recompute = on;
  }
  // The global model's inputs at patch positions k0 … k1: the learned pad patch at k = 0, else
  // the embedded bytes of patch k − 1 side by side (the shift by one patch) -> (B, k1 − k0 + 1, G).
  // x (B, n) holds the rows' bytes x0 … x0 + n − 1, from global_window(k0) (or earlier) to the
  // end of patch k1 − 1. Training asks for all K positions at once, decoding for the new ones;
  // both get the same numbers.
  Tensor global_inputs(const Tensor& x, int64_t x0, int64_t k0, int64_t k1) const;
  // The first byte global_inputs reads for positions from k0 on: patch k0 − 1's first (0 at
  // k0 = 0), less the conv encoder's receptive field when it is on.
  int64_t global_window(int64_t k0) const;
  // The global model's per-byte input for bytes ids (B, L) at positions first … first + L − 1:
  // byte + position embeddings, then the conv encoder (when on) -> (B, L, D_G). Outputs whose
  // receptive field (12 bytes back) falls inside the window equal the full forward's.
  Tensor byte_inputs(const Tensor& ids, int64_t first) const;
  static constexpr int64_t kConvField = 2 + 4 + 6;  // bytes the conv stack looks back
  // The local model's inputs for n bytes at positions first … first + n − 1 of their patch:
  // slices (R, n, D_L) the projected global (or last mid) context, prev (R, n) the byte before
  // each in the patch (256 at p = 0) -> slices + its embedding + the position's embedding.
  Tensor local_inputs(const Tensor& slices, const Tensor& prev, int64_t first) const;
  // The head: v (..., D_L) -> logits (..., 256), tied to the local byte embedding or untied;
  // in bf16 (f32 logits) when the local stack computes in bf16 (nn::set_compute_dtype).
  Tensor logits(const Tensor& v) const;

  // Decoding's two steps, the pieces above through a stack's KV caches (nn::decode): the
  // decoder (megabyte/generate.cpp) keeps the caches, the positions and the context.
  // Global positions k0 … k1, x (1, n) the context's bytes x0 … as global_inputs takes them ->
  // their outputs (1, k1 − k0 + 1, G).
  Tensor global_step(const Tensor& x, int64_t x0, int64_t k0, int64_t k1, std::vector<nn::KVCache>& caches) const;
  // Local positions first … first + n − 1 of a unit whose context, projected, is slices
  // (1, span, D_L) and whose bytes before them are prev (1, n) -> the logits of the last (256).
  Tensor local_step(const Tensor& slices, const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches,
                    int64_t capacity) const;

  Tensor global_byte_embed, global_pos_embed, global_pad;  // (256, D_G), (T, D_G), (G)
  std::vector<std::unique_ptr<Tensor>> conv_weight, conv_bias;  // the conv encoder, when on
  nn::Transformer global;                                   // width G over K patches
  std::vector<std::unique_ptr<MidLevel>> mids;               // deeper hierarchies only
  nn::Linear global_to_local;                               // D_G (or the last mid's) -> D_L
  Tensor local_byte_embed, local_pos_embed;                 // (257, D_L), (P, D_L)
  nn::Transformer local;                                    // width D_L over P bytes
  std::unique_ptr<nn::Linear> head;                         // untied head only
};

class ByteTransformer : public ByteModel {
 public:
  explicit ByteTransformer(const Config& c);
  Tensor forward(const Tensor& x, nn::DropoutStream* drop = nullptr) const override;
  void set_recompute(bool on) override { body.recompute = on; }

  // The inputs of positions first … first + n − 1: prev (B, n) the byte before each (256 = BOS
  // at position 0) -> its embedding + the position's, (B, n, W). Training and decoding.
  Tensor inputs(const Tensor& prev, int64_t first) const;
  // Decoding: positions first … first + n − 1 through the caches -> the logits of the last (256).
  Tensor step(const Tensor& prev, int64_t first, std::vector<nn::KVCache>& caches) const;

  Tensor byte_embed, pos_embed;  // (257, W) with row 256 = BOS, (T, W)
  nn::Transformer body;          // its parameters are blocks.* and ln_f.* at the top level
  nn::Linear head;               // W -> 256
};

std::unique_ptr<ByteModel> make_model(const Config& c);  // MEGABYTE, baseline or SpaceByte

// The entropy in bits, −Σ p log2 p, of each prediction: logits (..., 256) -> (...) in f64.
Tensor entropy_bits(const Tensor& logits);

// What the models share: every stack's block options from the config; x (B, T) shifted right
// by `by` inside every run of `span` bytes, the pad id 256 in front (-> (B, T) ids).
nn::BlockOptions block_options(const Config& c);
Tensor shift_within(const Tensor& x, int64_t span, int64_t by);

}  // namespace mb
