#include "megabyte/zoo.h"

#include <filesystem>

#include "megabyte/data.h"

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

// The paper's runs (App. A.1): dropout 0.1 (none on embeddings, as here), weights from
// N(0, 0.006) truncated at 2 std.
Config paper(Config c) {
  c.dropout = 0.1;
  c.init_std = 0.006;
  c.init_trunc = 2;
  return c;
}

// and their optimizer (App. A.1; learning rate and batch from Table 15): Adam with betas
// (0.9, 0.98), clipping at 1.0, weight decay 0.1, 500 warm-up steps, then metaseq's polynomial
// (power 1) decay to an end learning rate of 0
std::map<std::string, std::string> paper_recipe(const std::string& lr, int64_t batch) {
  return {{"lr", lr}, {"min_lr", "0"}, {"beta1", "0.9"}, {"beta2", "0.98"}, {"clip", "1"}, {"weight_decay", "0.1"},
          {"warmup", "500"}, {"schedule", "polynomial"}, {"batch", std::to_string(batch)}};
}

Config with_conv(Config c) {
  c.conv = true;
  return c;
}

// A preset of the paper: Table 15's sizes (heads as Table 14 gives them for each width), batch
// and learning rate, with the paper's init and training recipe.
Preset paper_preset(const std::string& name, const std::string& description, const Config& c, int64_t batch,
                    const std::string& lr, const std::string& note = "") {
  const std::string t15 =
      "paper Table 15 (arXiv 2305.07185); its parameter counts run 7-47% above this architecture's (blocks of "
      "12d^2 + 13d): they are GPT-3's nominal sizes (Table 14: 125M, 350M, 1.3B, 2.7B, which count a 50,257-token "
      "embedding) or those scaled by depth (758M = 1.3B x 14/24, 262M = 350M x 18/24, 83M = 125M x 8/12); the 2.3B "
      "of the no-local ablation fits neither";
  return {name, description, paper(c), batch, t15, note, paper_recipe(lr, batch)};
}

std::vector<Preset> make_presets() {
  const std::string ref = "the PyTorch reference's benchmark configs (BENCHMARKS.md)";
  const std::string p12 = "global width not a multiple of P = 12: D_G is fractional; the paper does not say how "
                          "these ran, so the sizes are analytic and the model cannot be built as given";
  return {
      {"tiny", "MEGABYTE for CPU experiments (the reference 'tiny' benchmark)",
       megabyte(256, 4, 128, 2, 4, 64, 2, 4), 8, ref, "", {}},
      {"small", "MEGABYTE at T = 2048 (the reference 'small' benchmark)",
       megabyte(2048, 8, 256, 4, 4, 128, 2, 4), 4, ref, "", {}},
      {"baseline-tiny", "byte transformer at the tiny preset's global size", baseline(256, 128, 2, 4), 8, ref, "", {}},
      {"baseline-small", "byte transformer at the small preset's global size", baseline(2048, 256, 4, 4), 4, ref, "", {}},
      paper_preset("paper-text", "MEGABYTE text model: global 758M (2048 x 14), local 262M (1024 x 18)",
                   megabyte(8192, 8, 2048, 14, 32, 1024, 18, 16), 48, "2e-4"),
      paper_preset("paper-text-transformer", "the text baseline: 320M transformer (1024 x 22)",
                   baseline(1024, 1024, 22, 16), 72, "2e-4"),
      paper_preset("paper-text-no-local", "ablation w/o local: global 2.3B (2560 x 20), P = 4, no local layers",
                   megabyte(8192, 4, 2560, 20, 32, 64, 0, 1), 48, "1.5e-4",
                   "'w/o local' modelled as a zero-layer local stack of width 64 (the paper gives no local size); "
                   "not quite the paper's global-only model (its section 2.4): each byte's prediction still adds the "
                   "previous byte's local embedding to the global model's output"),
      paper_preset("paper-text-cnn", "ablation with the CNN encoder: global 704M (2048 x 13), local 262M (1024 x 18)",
                   with_conv(megabyte(8192, 8, 2048, 13, 32, 1024, 18, 16)), 48, "2e-4",
                   "the encoder's composition (each kernel's output added back through a ReLU) is ours: the paper "
                   "gives only the kernel sizes 3, 5, 7"),
      paper_preset("paper-imagenet64", "ImageNet-64 state of the art: global 2.7B (2560 x 32), local 350M (1024 x 24)",
                   megabyte(12288, 12, 2560, 32, 32, 1024, 24, 16), 2, "2e-4", p12),
      paper_preset("paper-image64", "ImageNet-64 compute-matched: global 1.3B (2048 x 24), local 1.3B (2048 x 24)",
                   megabyte(12288, 12, 2048, 24, 32, 2048, 24, 32), 256, "3e-4", p12),
      paper_preset("paper-image256", "ImageNet-256: global 125M (768 x 12), local 125M (768 x 12), P = 192",
                   megabyte(196608, 192, 768, 12, 12, 768, 12, 12), 16, "2e-4"),
      paper_preset("paper-image640", "ImageNet-640: global 125M (768 x 12), local 83M (768 x 8), P = 192",
                   megabyte(1228800, 192, 768, 12, 12, 768, 8, 12), 32, "3e-4"),
      paper_preset("paper-audio", "audio: global 350M (1024 x 24), local 125M (768 x 12), P = 32",
                   megabyte(524288, 32, 1024, 24, 16, 768, 12, 12), 256, "2e-4"),
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

const std::vector<TrainedModel>& trained_models() {
  static const std::vector<TrainedModel> m = {
      {"tiny_shakespeare", "MEGABYTE tiny (P = 4), Shakespeare, 8000 steps: 2.332 bpb held out"},
      {"spacebyte_space_shakespeare", "SpaceByte, space patches, Shakespeare, 1687 steps: 3.116 bpb held out"},
      {"spacebyte_entropy_shakespeare", "SpaceByte, entropy patches by tiny_shakespeare, 1687 steps: 3.134 bpb held out"},
      {"baseline_shakespeare", "byte transformer 64 x 3, Shakespeare, 1711 steps: 2.911 bpb held out"},
      {"fashion_mnist", "MEGABYTE, 4x4-pixel patches, 1,000 Fashion-MNIST images, 1500 steps: 3.105 bpb held out"},
      {"audio_espeak", "MEGABYTE tiny, 60 s of 8 kHz mu-law speech, 2000 steps: 4.675 bpb held out"},
  };
  return m;
}

std::string zoo_file(const TrainedModel& m) { return shipped_file("megabyte/zoo/" + m.name + ".safetensors"); }

std::string model_file(const std::string& name_or_path) {
  std::error_code ec;
  if (std::filesystem::exists(name_or_path, ec)) return name_or_path;
  std::string known;
  for (const TrainedModel& m : trained_models()) {
    if (m.name == name_or_path) return zoo_file(m);
    known += (known.empty() ? "" : ", ") + m.name;
  }
  throw Error(cat(name_or_path, ": no such file, nor a zoo model (", known, ")"));
}

}  // namespace mb
