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

struct EvalOptions {
  int64_t window = 0;    // bytes per window, a multiple of P, at most T; 0: T
  int64_t stride = 0;    // sliding windows advance by this many bytes (a multiple of P); 0: window
  bool strided = false;  // the two-pass strided inference (MEGABYTE only)
  int64_t batch = 8;     // windows per forward pass
};

// Natural-log loss of predicting each byte of data[begin, end), in order.
std::vector<double> byte_nats(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin,
                              int64_t end, const EvalOptions& opt,
                              const std::function<void(int64_t, int64_t)>& progress = {});

// The entropy (bits) of the model's prediction of each byte of data from the bytes before it,
// in non-overlapping windows of T (the entropy patcher's input, megabyte/patcher.h).
std::vector<double> next_byte_entropy(const ByteModel& model, const std::vector<uint8_t>& data);

// The mean of byte_nats in bits.
double evaluate_bpb(const ByteModel& model, const std::vector<uint8_t>& data, int64_t begin, int64_t end,
                    const EvalOptions& opt, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mb
