#include "megabyte/zoo.h"

namespace mb {

namespace {

Config megabyte(int64_t seq, int64_t patch, int64_t gdim, int64_t glayers, int64_t gheads, int64_t ldim,
                int64_t llayers, int64_t lheads) {
  Config c;
  c.seq = seq;
  c.patch = patch;
  c.gdim = gdim;
  c.glayers = glayers;
  c.gheads = gheads;
  c.ldim = ldim;
  c.llayers = llayers;
  c.lheads = lheads;
  return c;
}

Config baseline(int64_t seq, int64_t width, int64_t layers, int64_t heads) {
  Config c = megabyte(seq, 1, width, layers, heads, 1, 0, 1);
  c.model = "baseline";
  c.head = Head::untied;
  return c;
}

// The paper's runs use dropout 0.1 (App. A.1).
Config paper(Config c) {
  c.dropout = 0.1;
  return c;
}

std::vector<Preset> make_presets() {
  const std::string ref = "the PyTorch reference's benchmark configs (BENCHMARKS.md)";
  const std::string t15 = "paper Table 15 (arXiv 2305.07185); its parameter counts run 8-16% above this "
                          "architecture's (blocks of 12d^2 + 13d): it does not say what else it counts";
  const std::string p12 = "global width not a multiple of P = 12: D_G is fractional; the paper does not say how "
                          "these ran, so the sizes are analytic and the model cannot be built as given";
  return {
      {"tiny", "MEGABYTE for CPU experiments (the reference 'tiny' benchmark)",
       megabyte(256, 4, 128, 2, 4, 64, 2, 4), 8, ref, ""},
      {"small", "MEGABYTE at T = 2048 (the reference 'small' benchmark)",
       megabyte(2048, 8, 256, 4, 4, 128, 2, 4), 4, ref, ""},
      {"baseline-tiny", "byte transformer at the tiny preset's global size", baseline(256, 128, 2, 4), 8, ref, ""},
      {"baseline-small", "byte transformer at the small preset's global size", baseline(2048, 256, 4, 4), 4, ref, ""},
      {"paper-text", "MEGABYTE text model: global 758M (2048 x 14), local 262M (1024 x 18)",
       paper(megabyte(8192, 8, 2048, 14, 16, 1024, 18, 16)), 48, t15, ""},
      {"paper-text-transformer", "the text baseline: 320M transformer (1024 x 22)",
       paper(baseline(1024, 1024, 22, 16)), 72, t15, ""},
      {"paper-text-no-local", "ablation w/o local: global only, 2.3B (2560 x 20), P = 4",
       paper(megabyte(8192, 4, 2560, 20, 32, 64, 0, 1)), 48, t15,
       "'w/o local' modelled as a zero-layer local stack of width 64 (the paper gives no local size)"},
      {"paper-text-cnn", "ablation with the CNN encoder: global 704M (2048 x 13), local 262M (1024 x 18)",
       paper(megabyte(8192, 8, 2048, 13, 16, 1024, 18, 16)), 48, t15,
       "the convolutional patch encoder is not part of this config"},
      {"paper-imagenet64", "ImageNet-64 state of the art: global 2.7B (2560 x 32), local 350M (1024 x 24)",
       paper(megabyte(12288, 12, 2560, 32, 32, 1024, 24, 16)), 2, t15, p12},
      {"paper-image64", "ImageNet-64 compute-matched: global 1.3B (2048 x 24), local 1.3B (2048 x 24)",
       paper(megabyte(12288, 12, 2048, 24, 32, 2048, 24, 32)), 256, t15, p12},
      {"paper-image256", "ImageNet-256: global 125M (768 x 12), local 125M (768 x 12), P = 192",
       paper(megabyte(196608, 192, 768, 12, 12, 768, 12, 12)), 16, t15, ""},
      {"paper-image640", "ImageNet-640: global 125M (768 x 12), local 83M (768 x 8), P = 192",
       paper(megabyte(1228800, 192, 768, 12, 12, 768, 8, 12)), 32, t15, ""},
      {"paper-audio", "audio: global 350M (1024 x 24), local 125M (768 x 12), P = 32",
       paper(megabyte(524288, 32, 1024, 24, 16, 768, 12, 12)), 256, t15, ""},
  };
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = make_presets();
  return p;
}

const Preset& find_preset(const std::string& name) {
  std::string known;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

}  // namespace mb
