// Pages that show a model and a run from the inside, as self-contained HTML (data inline, no
// network): `megabyte explain` (where a checkpoint is surprised by a span of bytes: bits per
// byte by byte and by position in the patch, plain and strided, each byte's top predictions,
// the global model's patch-to-patch and the local model's byte-to-byte attention) and
// `megabyte report` (a run's curves, options and samples). The data go into the page as JSON
// inside <script type="application/json">, read with JSON.parse: data, never code.
#pragma once
#include <string>
#include <vector>

#include "megabyte/model.h"

namespace mb {

struct ExplainOptions {
  int64_t offset = 0;   // the span: data[offset, offset + bytes)
  int64_t bytes = 0;    // 0: to the end of the data, at most kMaxBytes
  int64_t top = 5;      // predictions shown per byte
  std::string image;    // "WxH" or "WxHxC": draw the span as an image beside its bits
  bool audio = false;   // the span is 8-bit mu-law audio: draw the waveform
  static constexpr int64_t kMaxBytes = 1 << 16;
  static constexpr int64_t kMaxAttention = 128;  // patches whose attention the page carries
};

// The explain page's data (JSON text) for `model` over data[offset, offset + bytes).
std::string explain_data(const ByteModel& model, const std::vector<uint8_t>& data, const ExplainOptions& opt,
                         const std::string& title);

// The report page's data (JSON text) for run folders (log.csv and checkpoints in each);
// `samples` bytes are generated from each run's checkpoints (0: none).
std::string report_data(const std::vector<std::string>& runs, int64_t samples);

// A page: the template of `kind` ("explain" or "report") with `json` inline; written to a
// temporary name and renamed.
void write_page(const std::string& path, const std::string& kind, const std::string& json);

}  // namespace mb
