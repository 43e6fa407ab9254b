// Scoring text with a trained model: every byte of a range predicted exactly once.
//
// Windows: non-overlapping windows of `window` bytes (the default), or sliding ones that move
// by `stride` bytes and score only the bytes that are new in each (so that every byte after
// the first window has at least window − stride bytes of context, as in the paper's tables).
// The first window scores all its bytes; a last, shorter window is padded with zeros to whole
// patches (causality makes the padding invisible to the bytes that count).
//
// Strided inference (the paper, §2.3.3): in the paper's models the loss rises towards the end
// of each patch, so the last bytes of a patch are predicted worse than the first ones. A second
// pass runs on the same bytes shifted right by P/2, with P/2 zero bytes in front (the paper does
// not say what it pads with; NUL never occurs in text), and each byte is taken from the pass in
// which it sits in the first half of its patch. Twice the cost.
#pragma once
#include <functional>
#include <vector>

#include "megabyte/model.h"

namespace mb {

// X(type, member, "key", default, rule, "group", "help"): how a range is scored (megabyte/fields.h;
// the flags of `megabyte eval`). byte_nats checks what depends on the model (multiples of P, T).
#define MB_EVAL_FIELDS(X)                                                                                    \
  X(int64_t, window, "window", 0, in(0, kMaxCount), "scoring", "bytes per window (a multiple of P, at most T; 0: T)") \
  X(int64_t, stride, "stride", 0, in(0, kMaxCount), "scoring",                                              \
    "sliding windows: advance by this many bytes (a multiple of P), scoring only the new ones (0: no overlap)") \
  X(bool, strided, "strided", false, any(), "scoring",                                                      \
    "strided inference: a second pass shifted by P/2, each byte from the pass where it is in the first half " \
    "of its patch (twice the cost; MEGABYTE only)")                                                          \
  X(int64_t, batch, "batch", 8, in(1, kMaxBatch), "scoring", "windows per forward pass")

struct EvalOptions {
  MB_OPTIONS(MB_EVAL_FIELDS)
  void validate() const { check_fields(); }
};

// Natural-log loss of predicting each byte of data[begin, end), in order.
std::vector<double> byte_nats(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin,
                              int64_t end, const EvalOptions& opt,
                              const std::function<void(int64_t, int64_t)>& progress = {});

// The entropy (bits) of the model's prediction of each byte of data from the bytes before it,
// in non-overlapping windows of `window` bytes (0: the model's T; at most T): the entropy
// patcher's input (megabyte/patcher.h).
std::vector<double> next_byte_entropy(const ByteModel& model, const std::vector<uint8_t>& data, int64_t window = 0);

// The mean of byte_nats in bits.
double evaluate_bpb(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end,
                    const EvalOptions& opt, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mb
