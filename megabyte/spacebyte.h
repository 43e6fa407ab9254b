// SpaceByte (Slagle 2024), the MEGABYTE alternative whose global blocks run at variable
// patches: one residual stream of width D_L over the bytes; local blocks; the stream's states
// at the patch starts (fixed every P, after space-like bytes, or where a small byte model's
// next-byte entropy is high: megabyte/patcher.h) padded with
// zeros to width G and run through the global blocks as a sequence of their own; their outputs'
// first D_L features added back at those positions; more local blocks; the head.
//
//   h = byte_embed[x shifted right, BOS] + pos_embed              (B, T, D_L)
//   h = local_in(h)                         ceil(L/2) blocks, causal over all T bytes
//   s = starts(x)                            per row: 0 = s_0 < s_1 < ... (patch starts)
//   g = global(pad_G(h[:, s]))              (B, K, G) causal over the row's K starts
//   h[:, s] += g[..., :D_L]
//   h = local_out(h)                        floor(L/2) blocks
//   logits = head(ln_f(h))                  (B, T, 256)
//
// Causal by construction: position t predicts byte t from bytes < t; whether t is a start
// depends only on bytes < t (t − 1 and t − 2 for space patches; the entropy model's prediction
// of byte t for entropy patches) and the starts before it; the global blocks see
// states at earlier starts only. Rows have different numbers of starts: the global sequence is
// padded at its end to the batch's longest, where causality keeps the padding from the real
// positions, and the padded outputs are not added back.
//
// Differences from the paper: its local blocks attend within a sliding window; ours attend over
// all T bytes (the same at T <= its window, and a larger local context beyond). Its global
// blocks run at a fixed number of positions per sequence (T/P, the extra starts dropped); ours
// at every start (at most T/1, and at least T/P with the space patcher's longest patch P).
#pragma once
#include <memory>
#include <vector>

#include "megabyte/model.h"

namespace mb {

// --patcher entropy: the entropy model c.entropy_model names (a zoo model or a checkpoint file),
// loaded and checked for use with c (in eval mode; a message naming the field where it fails).
std::unique_ptr<ByteModel> load_entropy_model(const Config& c);

class SpaceByte : public ByteModel {
 public:
  explicit SpaceByte(const Config& c);
  Tensor forward(const Tensor& x, nn::DropoutStream* drop = nullptr) const override;
  void set_recompute(bool on) override;

  // The patch starts of each row of x (B, T') by the config's patcher: positions whose global
  // output is added to the stream. Position t's membership depends on bytes < t only.
  std::vector<std::vector<int64_t>> starts(const Tensor& x) const;
  std::vector<int64_t> starts(const std::vector<uint8_t>& bytes) const;  // one row
  // Whether position t >= 1 cuts a patch, before the longest-patch rule (PatchCutter): from
  // bytes[t − 1], bytes[t − 2] (space) or H[t], H[t − 1] (entropy; H unused otherwise).
  bool cut(const uint8_t* bytes, const double* H, int64_t t) const;
  // --patcher entropy: the entropy model's bits for each position of x (B, T'), row after row;
  // position t's from bytes < t. Its model is loaded from config().entropy_model and is not a
  // parameter of this one: never trained, saved or converted with it; it follows the input to
  // the device it is asked on.
  std::vector<double> entropies(const Tensor& x) const;
  // The entropy model, moved to `device` when it is elsewhere: the forward pass asks for the
  // input's device, the cached decoder for the model's.
  const ByteModel& entropy_model(Device device) const;

  Tensor byte_embed, pos_embed;  // (257, D_L) with row 256 = BOS, (T, D_L)
  std::vector<std::unique_ptr<nn::Block>> local_in, global, local_out;
  nn::LayerNorm ln_f;
  std::unique_ptr<nn::Linear> head;  // untied head only (tied: byte_embed[0:256]ᵀ)

  // One position of the stream through `blocks` (the cached pass, one KV cache each).
  static Tensor blocks_cached(const std::vector<std::unique_ptr<nn::Block>>& blocks, Tensor h,
                              std::vector<nn::KVCache>& caches, int64_t capacity);
  // The stream's states (N, D_L) padded with zeros to (N, G), and back: the first D_L features.
  Tensor widen(const Tensor& h) const;
  Tensor narrow_to_local(const Tensor& g) const;
  Tensor logits(const Tensor& h) const;  // ln_f, then the head: (..., D_L) -> (..., 256)

 private:
  mutable std::unique_ptr<ByteModel> entropy_;  // --patcher entropy only
};

}  // namespace mb
