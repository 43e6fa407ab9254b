#include "megabyte/config.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mb {

std::string field_text(const std::vector<MidStage>& mids) {
  std::string s;
  for (const MidStage& m : mids) s += cat(s.empty() ? "" : ",", m.patch, ":", m.dim, ":", m.layers, ":", m.heads);
  return s;
}

void parse_field(const std::string& what, const std::string& text, std::vector<MidStage>& mids) {
  mids.clear();
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find(',', at), text.size());
    const std::string part = text.substr(at, end - at);
    MidStage m;
    int64_t* parts[] = {&m.patch, &m.dim, &m.layers, &m.heads};
    size_t from = 0;
    for (size_t i = 0; i < 4; ++i) {
      const size_t colon = i < 3 ? part.find(':', from) : part.size();
      MB_CHECK(colon != std::string::npos, what, ": stage '", part, "' must be PATCH:WIDTH:LAYERS:HEADS");
      parse_field(cat(what, ": stage '", part, "'"), part.substr(from, colon - from), *parts[i]);
      from = colon + 1;
    }
    mids.push_back(m);
    at = end + 1;
  }
}

void Config::validate() const {
  // each field alone: its rule in the table
#define MB_CHECK_FIELD(type, member, key, def, rule, help) check_field("config: " key, member, rule);
  MB_CONFIG_FIELDS(MB_CHECK_FIELD)
#undef MB_CHECK_FIELD
  // the fields together
  MB_CHECK(gdim % gheads == 0, "config: global width gdim ", gdim, " is not divisible by gheads ", gheads);
  MB_CHECK(!conv || is_megabyte(), "config: the convolutional encoder is a MEGABYTE option");
  MB_CHECK((patcher == PatchRule::fixed && entropy_model.empty()) || is_spacebyte(),
           "config: --patcher and --entropy-model are spacebyte options");
  MB_CHECK(patcher == PatchRule::entropy || (entropy_theta == 0 && entropy_rule == EntropyRule::above),
           "config: --entropy-theta and --entropy-rule are options of --patcher entropy (the patcher is ", name_of(patcher), ")");
  if (is_spacebyte()) {
    MB_CHECK((patcher == PatchRule::entropy) == !entropy_model.empty(), "config: spacebyte's --patcher entropy and ",
             "--entropy-model go together (patcher ", name_of(patcher), ", entropy_model '", entropy_model, "')");
    MB_CHECK(gdim >= ldim, "config: spacebyte's global width gdim ", gdim, " must be at least the local width ldim ",
             ldim, " (the local stream is padded with zeros into it)");
    MB_CHECK(ldim % lheads == 0, "config: local width ldim ", ldim, " is not divisible by lheads ", lheads);
    MB_CHECK(mids.empty() && cross_patch == 0, "config: mid stages and cross-patch attention are MEGABYTE options");
    return;
  }
  if (is_baseline()) return;
  MB_CHECK(seq % patch == 0, "config: seq (T) ", seq, " is not a multiple of patch (P) ", patch);
  MB_CHECK(gdim % patch == 0, "config: global width gdim ", gdim, " is not a multiple of patch ", patch,
           " (gdim = P·D_G)");
  MB_CHECK(ldim % lheads == 0, "config: local width ldim ", ldim, " is not divisible by lheads ", lheads);
  int64_t above = patch;
  for (size_t i = 0; i < mids.size(); ++i) {
    const MidStage& m = mids[i];
    MB_CHECK(m.patch >= 1 && m.patch < above && above % m.patch == 0, "config: mid stage ", i, ": its patch ", m.patch,
             " must divide the patch ", above, " of the level above, and be smaller");
    MB_CHECK(m.dim >= 1 && m.dim <= kMaxWidth && m.dim % m.patch == 0, "config: mid stage ", i, ": width ", m.dim,
             " is not a multiple of its patch ", m.patch, " in [1, ", kMaxWidth, "]");
    MB_CHECK(m.layers >= 0 && m.layers <= kMaxLayers && m.heads >= 1 && m.dim % m.heads == 0, "config: mid stage ", i,
             ": ", m.layers, " layers (0 to ", kMaxLayers, ") or width ", m.dim, " not divisible by ", m.heads, " heads");
    above = m.patch;
  }
  MB_CHECK(cross_patch <= local_span(), "config: cross_patch (r) must be in [0, P = ", local_span(), "], got ",
           cross_patch);
  MB_CHECK(cross_patch == 0 || (ldim / lheads) % 2 == 0, "config: cross-patch attention's rotary embeddings need an ",
           "even local head width, got ", ldim / lheads);
}

void apply_config_json(std::map<std::string, std::string>& meta, const std::string& json, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(name + ": not valid JSON (" + e.what() + ")");
  }
  MB_CHECK(j.is_object(), name, ": expected a JSON object of config fields");
  for (auto it = j.begin(); it != j.end(); ++it) {
    MB_CHECK(meta.count(it.key()), name, ": unknown config field '", it.key(), "'");
    const auto& v = it.value();
    meta[it.key()] = v.is_string() ? v.get<std::string>() : v.is_boolean() ? (v.get<bool>() ? "1" : "0") : v.dump();
  }
}

std::map<std::string, std::string> Config::to_metadata() const {
  std::map<std::string, std::string> m;
#define MB_TEXT(type, member, key, ...) m[key] = field_text(member);
  MB_CONFIG_FIELDS(MB_TEXT)
#undef MB_TEXT
  return m;
}

Config Config::from_metadata(const std::map<std::string, std::string>& meta) {
  Config c;
#define MB_PARSE(type, member, key, ...) \
  if (auto it = meta.find(key); it != meta.end()) parse_field("config: '" key "'", it->second, c.member);
  MB_CONFIG_FIELDS(MB_PARSE)
#undef MB_PARSE
  if (c.is_baseline()) c.head = Head::untied;  // the baseline's head is always its own Linear
  c.validate();
  return c;
}

const std::vector<FieldInfo>& Config::fields() {
  static const std::vector<FieldInfo> f = [] {
    const Config d;
    std::vector<FieldInfo> v;
#define MB_INFO(type, member, key, def, rule, help) v.push_back({key, "model", help, field_text(d.member), std::is_same_v<type, bool>});
    MB_CONFIG_FIELDS(MB_INFO)
#undef MB_INFO
    return v;
  }();
  return f;
}

std::string Config::summary() const {
  if (is_spacebyte())
    return cat("SpaceByte T=", seq, " | local ", ldim, " x", llayers, " layers (", llayers - llayers / 2, " before, ",
               llayers / 2, " after the global), ", lheads, " heads | global ", gdim, " x", glayers, " layers, ", gheads,
               " heads, at ", name_of(patcher), " patches",
               patcher != PatchRule::entropy ? std::string()
               : entropy_theta > 0 ? cat(" (", entropy_model, ", ", name_of(entropy_rule), " ", entropy_theta, " bits)")
                                   : cat(" (", entropy_model, ", ", name_of(entropy_rule), ", the threshold chosen by train)"),
               " of at most P=", patch, " | ", name_of(act), ", head ",
               field_text(head));
  if (is_baseline())
    return cat("baseline byte transformer T=", seq, " width ", gdim, " x", glayers, " layers, ", gheads,
               " heads, ", name_of(act));
  return cat("MEGABYTE T=", seq, " P=", patch, " K=", patches(), " | global ", gdim, " (D_G=", dg(), ") x",
             glayers, " layers, ", gheads, " heads | local ", ldim, " x", llayers, " layers, ", lheads,
             " heads | ", name_of(act), ", head ", field_text(head),
             ", local_pos ", local_pos ? 1 : 0, conv ? ", conv encoder" : "",
             cross_patch ? cat(", cross-patch r=", cross_patch) : std::string(),
             mids.empty() ? std::string() : cat(" | mid stages ", field_text(mids)));
}

namespace {
// a stack of `layers` blocks of width d and its final LayerNorm
double stack_params(double d, double layers) { return layers * (12 * d * d + 13 * d) + 2 * d; }
// forward matmul FLOPs of such a stack per input position, attending over `seq` positions:
// 24·d² (QKV, output, MLP) + 4·seq·d (QKᵀ and AV over the full seq x seq square, what a dense
// masked kernel computes). The paper (after Kaplan et al.) counts 2·seq·d for attention, half
// of ours: a causal position attends to seq/2 others on average.
double stack_flops(double seq, double d, double layers) { return 2 * layers * (12 * d * d + 2 * seq * d); }
}  // namespace

ModelSize model_size(const Config& c) {
  const double V = double(Config::vocab), T = double(c.seq);
  if (c.is_spacebyte()) {  // byte (+ BOS) and position embeddings, the blocks, ln_f, the head
    const double DL = double(c.ldim), G = double(c.gdim), L = double(c.llayers);
    return {0, stack_params(G, double(c.glayers)) - 2 * G, 0, (V + 1) * DL + T * DL, stack_params(DL, L),
            c.head == Head::tied ? 0 : V * DL + V};
  }
  if (c.is_baseline()) {
    const double W = double(c.gdim);
    return {(V + 1) * W + T * W, stack_params(W, double(c.glayers)), 0, 0, 0, V * W + V};
  }
  const double G = double(c.gdim), P = double(c.patch), DG = G / P, DL = double(c.ldim);
  double conv = 0;  // kernels 3, 5, 7 of D_G -> D_G, with biases
  if (c.conv)
    for (double k : {3.0, 5.0, 7.0}) conv += DG * DG * k + DG;
  // each mid stage: the projection from the level above, byte (+ pad) and position embeddings
  // over the unit above, its stack
  double mid = 0, d_above = DG, span = P;
  for (const MidStage& m : c.mids) {
    const double d = double(m.dim) / double(m.patch);
    mid += d_above * d + (V + 1) * d + span * d + stack_params(double(m.dim), double(m.layers));
    d_above = d;
    span = double(m.patch);
  }
  ModelSize s{V * DG + T * DG + G + conv,
              stack_params(G, double(c.glayers)),
              d_above * DL,
              (V + 1) * DL + (c.local_pos ? span * DL : 0),
              stack_params(DL, double(c.llayers)),
              c.head == Head::tied ? 0 : V * DL + V};
  s.mid = mid;
  return s;
}

TrainingMemory training_memory(const Config& c, int64_t batch_size) {
  // per token and layer of width d a step keeps about 18d values: the two LayerNorm outputs,
  // QKV (3d), the attention output, the MLP hidden before and after the activation (8d) and
  // the residual inputs; plus the logits and their gradient
  const double T = double(c.seq), B = double(batch_size);
  double values = c.is_baseline()    ? B * T * 18 * double(c.gdim) * double(c.glayers)
                  : c.is_spacebyte() ? B * T * 18 * double(c.ldim) * double(c.llayers) +
                                           B * T / double(c.patch) * 18 * double(c.gdim) * double(c.glayers)
                                  : B * T / double(c.patch) * 18 * double(c.gdim) * double(c.glayers) +
                                        B * T * 18 * double(c.ldim) * double(c.llayers);
  return {16 * model_size(c).total(), 4 * (values + 2 * B * T * Config::vocab)};
}

double forward_flops_per_byte(const Config& c, double mean_patch) {
  const double T = double(c.seq);
  if (c.is_baseline()) return stack_flops(T, double(c.gdim), double(c.glayers)) + 2 * double(c.gdim) * Config::vocab;
  // spacebyte: the local blocks at every byte over T, the global ones at every patch start over
  // the T/m of them (m: the mean patch, P unless given), the head
  if (c.is_spacebyte()) {
    const double m = mean_patch > 0 ? mean_patch : double(c.patch);
    return stack_flops(T, double(c.ldim), double(c.llayers)) + stack_flops(T / m, double(c.gdim), double(c.glayers)) / m +
           2 * double(c.ldim) * Config::vocab;
  }
  // the global stack runs once per patch (1/P per byte), a mid stage once per unit of its
  // own, the local one once per byte
  const double P = double(c.patch), K = T / P, DG = double(c.gdim) / P;
  double f = stack_flops(K, double(c.gdim), double(c.glayers)) / P, d_above = DG, span = P;
  if (c.conv) f += 2 * DG * DG * (3 + 5 + 7);  // the conv encoder: a D_G x D_G·k GEMM per byte and kernel
  for (const MidStage& m : c.mids) {
    const double U = double(m.patch), d = double(m.dim) / U;
    f += stack_flops(span / U, double(m.dim), double(m.layers)) / U + 2 * d_above * d;
    d_above = d;
    span = U;
  }
  return f + stack_flops(span, double(c.ldim), double(c.llayers)) + 2 * (d_above + Config::vocab) * double(c.ldim);
}

}  // namespace mb
