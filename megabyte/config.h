// The model configuration: MEGABYTE (two levels, or more with mid stages), the byte-level
// transformer baseline, or SpaceByte (megabyte/spacebyte.h: global blocks at variable patches). Its fields are one table, MB_CONFIG_FIELDS: a new field is one line
// there (and its use); the struct, validation, metadata and the CLI flags follow from it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "megabyte/fields.h"
#include "megabyte/patcher.h"

namespace mb {

// A level between the global and the local model (deeper hierarchies): it runs over the
// units of `patch` bytes inside each unit of the level above, at width `dim` = patch × its
// per-byte width.
struct MidStage {
  int64_t patch = 0, dim = 0, layers = 0, heads = 1;
  bool operator==(const MidStage&) const = default;
};
// As text: "PATCH:WIDTH:LAYERS:HEADS,..." e.g. "8:256:2:4"
std::string field_text(const std::vector<MidStage>& mids);
void parse_field(const std::string& what, const std::string& text, std::vector<MidStage>& mids);

// The head: logits = h · local.byte_embed[0:256]ᵀ (tied, the paper) or a Linear with bias.
enum class Head { tied, untied };
template <> struct EnumNames<Head> {
  static constexpr std::pair<Head, const char*> table[] = {{Head::tied, "tied"}, {Head::untied, "untied"}};
};

// Upper bounds that keep every size computed from a config far from int64 overflow.
constexpr double kMaxSeq = double(int64_t(1) << 26);    // 64 Mi bytes per sequence
constexpr double kMaxWidth = double(int64_t(1) << 16);  // widths, heads, patch sizes
constexpr double kMaxLayers = 1024;

// X(type, member, "key", default, rule, "help"): the fields of Config, in metadata order.
#define MB_CONFIG_FIELDS(X)                                                                              \
  X(std::string, model, "model", "megabyte", one_of({"megabyte", "baseline", "spacebyte"}),              \
    "megabyte, baseline or spacebyte")                                                                   \
  X(int64_t, seq, "seq", 256, in(1, kMaxSeq), "T: bytes per sequence")                                   \
  X(int64_t, patch, "patch", 4, in(1, kMaxWidth), "P: bytes per patch (K = T/P patches)")                \
  X(PatchRule, patcher, "patcher", PatchRule::fixed, any(),                                              \
    "spacebyte: where its global blocks run: fixed (every P bytes), space (after space-like bytes) or entropy (where "  \
    "--entropy-model finds the next byte hard), patches at most P long")                                 \
  X(std::string, entropy_model, "entropy_model", "", any(),                                              \
    "--patcher entropy: the small byte model whose next-byte entropy places the starts (a zoo model's name or a " \
    "checkpoint file)")                                                                                  \
  X(EntropyRule, entropy_rule, "entropy_rule", EntropyRule::above, any(),                                \
    "--patcher entropy: a start where H[t] > theta (above) or H[t] - H[t-1] > theta (rise)")             \
  X(double, entropy_theta, "entropy_theta", 0.0, in(0, 8),                                               \
    "--patcher entropy: the threshold in bits (0: train chooses it for --entropy-mean)")                 \
  X(int64_t, gdim, "gdim", 128, in(1, kMaxWidth), "global width G = P*D_G (baseline: width)")            \
  X(int64_t, glayers, "glayers", 2, in(0, kMaxLayers), "global layers")                                  \
  X(int64_t, gheads, "gheads", 4, in(1, kMaxWidth), "global heads")                                      \
  X(int64_t, ldim, "ldim", 64, in(1, kMaxWidth), "local width D_L")                                      \
  X(int64_t, llayers, "llayers", 2, in(0, kMaxLayers), "local layers")                                   \
  X(int64_t, lheads, "lheads", 4, in(1, kMaxWidth), "local heads")                                       \
  X(nn::Activation, act, "act", nn::Activation::relu, any(), "relu (the paper's) or gelu")               \
  X(Head, head, "head", Head::tied, any(), "tied (to the local byte embedding, the paper's) or untied")  \
  X(bool, local_pos, "local_pos", true, any(), "local position embeddings (--local-pos=0: none)")        \
  X(bool, conv, "conv", false, any(), "the convolutional patch encoder (kernels 3, 5, 7)")               \
  X(int64_t, cross_patch, "cross_patch", 0, in(0, kMaxWidth),                                            \
    "r: local attention also attends to the previous patch's last r bytes (rotary positions)")           \
  X(std::vector<MidStage>, mids, "mid", {}, any(),                                                       \
    "levels between global and local, outermost first: PATCH:WIDTH:LAYERS:HEADS[,...] (e.g. 8:256:2:4)") \
  X(double, dropout, "dropout", 0.0, in_below(0, 1), "dropout probability")                              \
  X(double, init_std, "init_std", 0.02, positive(), "std of the initial weights")                        \
  X(double, init_trunc, "init_trunc", 0.0, in(0, 10),                                                    \
    "truncate the initial weights at this many std (0: no truncation; the paper: 2)")                    \
  X(double, ln_eps, "ln_eps", kLayerNormEps, positive(), "LayerNorm epsilon")

struct Config {
#define MB_MEMBER(type, member, key, def, ...) type member = def;
  MB_CONFIG_FIELDS(MB_MEMBER)
#undef MB_MEMBER

  static constexpr int64_t vocab = 256;
  bool is_baseline() const { return model == "baseline"; }
  bool is_megabyte() const { return model == "megabyte"; }
  bool is_spacebyte() const { return model == "spacebyte"; }
  // inputs come in multiples of this many bytes: P for MEGABYTE, 1 for the others
  int64_t align() const { return is_megabyte() ? patch : 1; }
  int64_t dg() const { return gdim / patch; }       // D_G
  int64_t patches() const { return seq / patch; }   // K
  // bytes per sequence of the local model: the smallest unit above it
  int64_t local_span() const { return mids.empty() ? patch : mids.back().patch; }

  // Throws an mb::Error naming the first field that is wrong and why.
  void validate() const;
  // Every field as key -> text (the fixture/checkpoint metadata, JSON config keys).
  std::map<std::string, std::string> to_metadata() const;
  // Fields absent from `meta` keep their defaults; other keys are ignored. Validated.
  static Config from_metadata(const std::map<std::string, std::string>& meta);
  static const std::vector<FieldInfo>& fields();  // the table, for flags and help
  std::string summary() const;  // one line
};

// Sets the fields of a JSON object of config fields ({"seq": 512, "act": "gelu", "conv": true})
// in `meta` (a Config's metadata); throws naming `name` for bad JSON or an unknown field.
// Config::from_metadata then reads and validates the values.
void apply_config_json(std::map<std::string, std::string>& meta, const std::string& json, const std::string& name);

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
// SpaceByte's global blocks run once per patch: at `mean_patch` bytes a patch when given (the
// starts a text really has), else at P (exact for fixed patches, a lower bound for space ones).
double forward_flops_per_byte(const Config& c, double mean_patch = 0);

// Memory of training in f32, estimated: the weights with their gradients and AdamW moments (16
// bytes a parameter), and the activations a step at this batch size keeps for backward.
struct TrainingMemory {
  double state, activations;
  double total() const { return state + activations; }
};
TrainingMemory training_memory(const Config& c, int64_t batch);

}  // namespace mb
