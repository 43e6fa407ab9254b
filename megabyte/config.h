// The model configuration: MEGABYTE (two levels) or the byte-transformer baseline.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nn/layers.h"

namespace mb {

// A level between the global and the local model (deeper hierarchies): it runs over the
// units of `patch` bytes inside each unit of the level above, at width `dim` = patch × its
// per-byte width.
struct MidStage {
  int64_t patch = 0, dim = 0, layers = 0, heads = 1;
  bool operator==(const MidStage&) const = default;
};

struct Config {
  std::string model = "megabyte";  // "megabyte" or "baseline"
  int64_t seq = 256;               // T: bytes per sequence
  int64_t patch = 4;               // P: bytes per patch (K = T/P patches); unused by the baseline
  int64_t gdim = 128;              // global width G = P·D_G (the baseline's width)
  int64_t glayers = 2, gheads = 4;
  int64_t ldim = 64;               // local width D_L (unused by the baseline)
  int64_t llayers = 2, lheads = 4;
  nn::Activation act = nn::Activation::relu;
  bool tied_head = true;           // logits = h · local.byte_embed[0:256]ᵀ (the paper)
  bool local_pos = true;           // learned local position embeddings
  bool conv = false;               // the paper's convolutional patch encoder (kernels 3, 5, 7)
  int64_t cross_patch = 0;         // r: local attention also sees the previous patch's last r bytes
  // Levels between the global and the local model, outermost first (empty: the paper's two
  // levels). As metadata "mid" = "P:dim:layers:heads,..." e.g. "8:256:2:4".
  std::vector<MidStage> mids;
  double dropout = 0.0;
  double init_std = 0.02;
  double ln_eps = 1e-5;

  static constexpr int64_t vocab = 256;
  bool is_baseline() const { return model == "baseline"; }
  int64_t dg() const { return gdim / patch; }       // D_G
  int64_t patches() const { return seq / patch; }   // K
  // bytes per sequence of the local model: the smallest unit above it
  int64_t local_span() const { return mids.empty() ? patch : mids.back().patch; }

  // Throws an mb::Error naming the first field that is wrong and why.
  void validate() const;
  // The fixture/checkpoint metadata keys: model, seq, patch, gdim, glayers, gheads, ldim,
  // llayers, lheads, act, head, local_pos, conv, cross_patch, mid, dropout, init_std, ln_eps.
  std::map<std::string, std::string> to_metadata() const;
  static Config from_metadata(const std::map<std::string, std::string>& meta);
  std::string summary() const;  // one line
};

std::string mids_to_string(const std::vector<MidStage>& mids);
std::vector<MidStage> mids_from_string(const std::string& s);  // throws on a malformed list

// Parameter counts by part, from the config alone (no model is built): valid for any config
// that validates, and for the paper's configs whose global width is not a multiple of P
// (D_G = G/P is then fractional).
struct ModelSize {
  double global_embed, global_stack, global_to_local, local_embed, local_stack, head;
  double mid = 0;  // the mid stages, all parts (deeper hierarchies only)
  double total() const {
    return global_embed + global_stack + global_to_local + local_embed + local_stack + head + mid;
  }
};
ModelSize model_size(const Config& c);
// Forward-pass matmul FLOPs per byte (training: about 3x).
double forward_flops_per_byte(const Config& c);

}  // namespace mb
