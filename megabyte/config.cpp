#include "megabyte/config.h"

#include <cstdlib>

namespace mb {

void Config::validate() const {
  MB_CHECK(model == "megabyte" || model == "baseline", "config: model must be megabyte or baseline, got '", model, "'");
  MB_CHECK(seq >= 1, "config: seq (T) must be >= 1, got ", seq);
  MB_CHECK(gdim >= 1 && glayers >= 0 && gheads >= 1, "config: global gdim ", gdim, ", glayers ", glayers,
           ", gheads ", gheads, " must be positive (layers may be 0)");
  MB_CHECK(gdim % gheads == 0, "config: global width gdim ", gdim, " is not divisible by gheads ", gheads);
  MB_CHECK(dropout >= 0 && dropout < 1, "config: dropout must be in [0, 1), got ", dropout);
  MB_CHECK(init_std > 0, "config: init_std must be positive, got ", init_std);
  MB_CHECK(ln_eps > 0, "config: ln_eps must be positive, got ", ln_eps);
  MB_CHECK(!conv || !is_baseline(), "config: the convolutional encoder is a MEGABYTE option");
  if (is_baseline()) return;
  MB_CHECK(patch >= 1, "config: patch (P) must be >= 1, got ", patch);
  MB_CHECK(seq % patch == 0, "config: seq (T) ", seq, " is not a multiple of patch (P) ", patch);
  MB_CHECK(gdim % patch == 0, "config: global width gdim ", gdim, " is not a multiple of patch ", patch,
           " (gdim = P·D_G)");
  MB_CHECK(ldim >= 1 && llayers >= 0 && lheads >= 1, "config: local ldim ", ldim, ", llayers ", llayers,
           ", lheads ", lheads, " must be positive (layers may be 0)");
  MB_CHECK(ldim % lheads == 0, "config: local width ldim ", ldim, " is not divisible by lheads ", lheads);
  int64_t above = patch;
  for (size_t i = 0; i < mids.size(); ++i) {
    const MidStage& m = mids[i];
    MB_CHECK(m.patch >= 1 && m.patch < above && above % m.patch == 0, "config: mid stage ", i, ": its patch ", m.patch,
             " must divide the patch ", above, " of the level above, and be smaller");
    MB_CHECK(m.dim >= 1 && m.dim % m.patch == 0, "config: mid stage ", i, ": width ", m.dim, " is not a multiple of its patch ",
             m.patch);
    MB_CHECK(m.layers >= 0 && m.heads >= 1 && m.dim % m.heads == 0, "config: mid stage ", i, ": width ", m.dim,
             " is not divisible by ", m.heads, " heads");
    above = m.patch;
  }
  MB_CHECK(cross_patch >= 0 && cross_patch <= local_span(), "config: cross_patch (r) must be in [0, P = ", local_span(),
           "], got ", cross_patch);
  MB_CHECK(cross_patch == 0 || (ldim / lheads) % 2 == 0, "config: cross-patch attention's rotary embeddings need an ",
           "even local head width, got ", ldim / lheads);
}

std::string mids_to_string(const std::vector<MidStage>& mids) {
  std::string s;
  for (const MidStage& m : mids) s += cat(s.empty() ? "" : ",", m.patch, ":", m.dim, ":", m.layers, ":", m.heads);
  return s;
}

std::vector<MidStage> mids_from_string(const std::string& s) {
  std::vector<MidStage> out;
  size_t at = 0;
  while (at < s.size()) {
    const size_t end = std::min(s.find(',', at), s.size());
    MidStage m;
    long long p = 0, d = 0, l = 0, h = 0;
    char tail = 0;
    const std::string part = s.substr(at, end - at);
    MB_CHECK(std::sscanf(part.c_str(), "%lld:%lld:%lld:%lld%c", &p, &d, &l, &h, &tail) == 4, "config: mid stage '", part,
             "' must be PATCH:WIDTH:LAYERS:HEADS");
    m.patch = p;
    m.dim = d;
    m.layers = l;
    m.heads = h;
    out.push_back(m);
    at = end + 1;
  }
  return out;
}

std::map<std::string, std::string> Config::to_metadata() const {
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return std::string(b);
  };
  return {{"model", model},
          {"seq", std::to_string(seq)},
          {"patch", std::to_string(patch)},
          {"gdim", std::to_string(gdim)},
          {"glayers", std::to_string(glayers)},
          {"gheads", std::to_string(gheads)},
          {"ldim", std::to_string(ldim)},
          {"llayers", std::to_string(llayers)},
          {"lheads", std::to_string(lheads)},
          {"act", nn::activation_name(act)},
          {"head", tied_head ? "tied" : "untied"},
          {"local_pos", local_pos ? "1" : "0"},
          {"conv", conv ? "1" : "0"},
          {"cross_patch", std::to_string(cross_patch)},
          {"mid", mids_to_string(mids)},
          {"dropout", num(dropout)},
          {"init_std", num(init_std)},
          {"ln_eps", num(ln_eps)}};
}

namespace {
// meta[key] as a number, or `fallback` when absent; a malformed value is an error
double number(const std::map<std::string, std::string>& meta, const std::string& key, double fallback) {
  auto it = meta.find(key);
  if (it == meta.end()) return fallback;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  MB_CHECK(end && *end == '\0' && !it->second.empty(), "config: '", key, "' = '", it->second, "' is not a number");
  return v;
}
int64_t integer(const std::map<std::string, std::string>& meta, const std::string& key, int64_t fallback) {
  const double v = number(meta, key, double(fallback));
  MB_CHECK(v == double(int64_t(v)), "config: '", key, "' = ", v, " is not an integer");
  return int64_t(v);
}
}  // namespace

Config Config::from_metadata(const std::map<std::string, std::string>& meta) {
  Config c;
  auto text = [&](const std::string& k, const std::string& fallback) {
    auto it = meta.find(k);
    return it == meta.end() ? fallback : it->second;
  };
  c.model = text("model", c.model);
  c.seq = integer(meta, "seq", c.seq);
  c.patch = integer(meta, "patch", c.patch);
  c.gdim = integer(meta, "gdim", c.gdim);
  c.glayers = integer(meta, "glayers", c.glayers);
  c.gheads = integer(meta, "gheads", c.gheads);
  c.ldim = integer(meta, "ldim", c.ldim);
  c.llayers = integer(meta, "llayers", c.llayers);
  c.lheads = integer(meta, "lheads", c.lheads);
  c.act = nn::activation_from_name(text("act", "relu"));
  const std::string head = text("head", "tied");
  MB_CHECK(head == "tied" || head == "untied", "config: head must be tied or untied, got '", head, "'");
  c.tied_head = head == "tied" && !c.is_baseline();
  c.local_pos = integer(meta, "local_pos", 1) != 0;
  c.conv = integer(meta, "conv", 0) != 0;
  c.cross_patch = integer(meta, "cross_patch", 0);
  if (meta.count("mid")) c.mids = mids_from_string(meta.at("mid"));
  c.dropout = number(meta, "dropout", 0.0);
  c.init_std = number(meta, "init_std", c.init_std);
  c.ln_eps = number(meta, "ln_eps", c.ln_eps);
  c.validate();
  return c;
}

std::string Config::summary() const {
  if (is_baseline())
    return cat("baseline byte transformer T=", seq, " width ", gdim, " x", glayers, " layers, ", gheads,
               " heads, ", nn::activation_name(act));
  return cat("MEGABYTE T=", seq, " P=", patch, " K=", patches(), " | global ", gdim, " (D_G=", dg(), ") x",
             glayers, " layers, ", gheads, " heads | local ", ldim, " x", llayers, " layers, ", lheads,
             " heads | ", nn::activation_name(act), ", head ", tied_head ? "tied" : "untied",
             ", local_pos ", local_pos ? 1 : 0, conv ? ", conv encoder" : "",
             cross_patch ? cat(", cross-patch r=", cross_patch) : std::string(),
             mids.empty() ? std::string() : cat(" | mid stages ", mids_to_string(mids)));
}

namespace {
// a stack of `layers` blocks of width d and its final LayerNorm
double stack_params(double d, double layers) { return layers * (12 * d * d + 13 * d) + 2 * d; }
// forward matmul FLOPs of such a stack per input position, attending over `seq` positions:
// 24·d² (QKV, output, MLP) + 4·seq·d (QKᵀ and AV over the full square), as the paper counts
double stack_flops(double seq, double d, double layers) { return 2 * layers * (12 * d * d + 2 * seq * d); }
}  // namespace

ModelSize model_size(const Config& c) {
  const double V = double(Config::vocab), T = double(c.seq);
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
              c.tied_head ? 0 : V * DL + V};
  s.mid = mid;
  return s;
}

double forward_flops_per_byte(const Config& c) {
  const double T = double(c.seq);
  if (c.is_baseline()) return stack_flops(T, double(c.gdim), double(c.glayers)) + 2 * double(c.gdim) * Config::vocab;
  // the global stack runs once per patch (1/P per byte), a mid stage once per unit of its
  // own, the local one once per byte
  const double P = double(c.patch), K = T / P;
  double f = stack_flops(K, double(c.gdim), double(c.glayers)) / P, d_above = double(c.gdim) / P, span = P;
  for (const MidStage& m : c.mids) {
    const double U = double(m.patch), d = double(m.dim) / U;
    f += stack_flops(span / U, double(m.dim), double(m.layers)) / U + 2 * d_above * d;
    d_above = d;
    span = U;
  }
  return f + stack_flops(span, double(c.ldim), double(c.llayers)) + 2 * (d_above + Config::vocab) * double(c.ldim);
}

}  // namespace mb
