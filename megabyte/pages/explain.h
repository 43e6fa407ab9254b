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

// X(type, member, "key", default, rule, "group", "help"): what the page shows, the span
// data[offset, offset + bytes) (megabyte/fields.h; the flags of `megabyte explain`).
#define MB_EXPLAIN_FIELDS(X)                                                                                  \
  X(int64_t, offset, "offset", 0, in(0, kMaxCount), "page", "first byte of the span")                         \
  X(int64_t, bytes, "bytes", 0, in(0, kMaxBytes), "page", "bytes in the span (0: to the end, at most 65536)")   \
  X(int64_t, top, "top", 5, in(1, 256), "page", "predictions shown per byte")                                 \
  X(std::string, image, "image", "", any(), "page",                                                           \
    "the span is an image of WxH (or WxHxC) pixels: draw it beside its bits")                                 \
  X(bool, audio, "audio", false, any(), "page", "the span is 8-bit mu-law audio: draw the waveform above its bits")

struct ExplainOptions {
  MB_OPTIONS(MB_EXPLAIN_FIELDS)
  void validate() const { check_fields(); }
  static constexpr int64_t kMaxBytes = 1 << 16;  // the rule of `bytes`
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
