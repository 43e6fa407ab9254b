// Generation. A Decoder holds a growing byte context and gives the logits of the next byte.
// The cached decoders keep the keys and values of every attention layer: for MEGABYTE a new
// patch runs the global model once (one position, over its cache) and every byte runs the
// local model once; nothing is recomputed. Pushed bytes are taken in lazily: a prompt joins
// the caches in one batched pass per stack when the next logits are asked for. The recomputing decoder re-runs the full model
// over the whole context for every byte, as most public MEGABYTE code does: the yardstick.
//
// When the context reaches the model's T bytes, the cached decoders keep the last T/2 (whole
// patches) and rebuild their caches from them, as the model has no positions beyond T.
#pragma once
#include <functional>
#include <memory>

#include "megabyte/model.h"

namespace mb {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // (256) logits of the byte after the context (of the first byte for an empty context)
  virtual Tensor next_logits() = 0;
  virtual void push(uint8_t byte) = 0;  // appends a byte to the context (computes nothing yet)
  virtual int64_t size() const = 0;     // bytes in the context
};

// Cached incremental decoding for a Megabyte or ByteTransformer model (batch 1).
std::unique_ptr<Decoder> cached_decoder(const ByteModel& model);
// Full recomputation over the context (capped at the last T − 1 bytes) for every byte.
std::unique_ptr<Decoder> recompute_decoder(const ByteModel& model);

struct SampleOptions {
  double temperature = 1.0;  // 0: greedy (argmax)
  int64_t top_k = 0;         // keep the k most likely bytes (0: all)
  double top_p = 1.0;        // keep the smallest set whose probability reaches p, in (0, 1]
  uint64_t seed = 0;
  void validate() const;
};

// Draws a byte from (256) logits; draw i of a seed uses Philox counter i, so a run is
// reproducible byte for byte.
int sample_byte(const Tensor& logits, const SampleOptions& opt, uint64_t draw);

// Feeds `prompt`, then samples n bytes, handing each to `on_byte` as it comes (may be empty);
// returns the sampled bytes.
std::string generate(Decoder& dec, const std::string& prompt, int64_t n, const SampleOptions& opt,
                     const std::function<void(uint8_t)>& on_byte = {});

}  // namespace mb
