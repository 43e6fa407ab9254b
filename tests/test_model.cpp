// The MEGABYTE and baseline models: config validation, parameter layout and counts,
// causality, save/load, FLOPs, and that a tiny model can memorise a string.
#include <cmath>
#include <filesystem>

#include "helpers.h"
#include "megabyte/checkpoint.h"
#include "megabyte/model.h"
#include "megabyte/trainer.h"
#include "megabyte/zoo.h"
#include "nn/optim.h"
#include "nn/safetensors.h"

using namespace mb;
using namespace mb::test;

namespace {

Config tiny_megabyte() { return megabyte_config(32, 4, 32, 16, 2); }

Config tiny_baseline() {
  Config c = tiny_megabyte();
  c.model = "baseline";
  c.head = Head::untied;
  return c;
}

}  // namespace

TEST_CASE("config validation names the field and the problem") {
  auto err = [](auto edit) {
    Config c = tiny_megabyte();
    edit(c);
    return error_of([&] { c.validate(); });
  };
  CHECK(err([](Config& c) { c.seq = 30; }).find("seq (T) 30 is not a multiple of patch (P) 4") != std::string::npos);
  CHECK(err([](Config& c) { c.gdim = 30; }).find("gdim 30 is not a multiple of patch 4") != std::string::npos);
  CHECK(err([](Config& c) { c.gheads = 3; }).find("gdim 32 is not divisible by gheads 3") != std::string::npos);
  CHECK(err([](Config& c) { c.lheads = 5; }).find("ldim 16 is not divisible by lheads 5") != std::string::npos);
  CHECK(err([](Config& c) { c.model = "gpt"; }).find("config: model must be one of megabyte, baseline or spacebyte, got 'gpt'") != std::string::npos);
  CHECK(err([](Config& c) { c.dropout = 1.0; }).find("dropout") != std::string::npos);
  CHECK(err([](Config& c) { c.patch = 0; }).find("config: patch must be in [1, 65536], got 0") != std::string::npos);
  CHECK(err([](Config& c) { c.seq = int64_t(1) << 60; }).find("config: seq must be in [1, 67108864]") != std::string::npos);
  CHECK(err([](Config& c) { c.ln_eps = 0; }).find("config: ln_eps must be > 0, got 0") != std::string::npos);
  CHECK(error_of([] { (void)Config::from_metadata({{"seq", "abc"}}); }).find("'seq' = 'abc' is not an integer") != std::string::npos);
  CHECK(error_of([] { (void)Config::from_metadata({{"seq", "1e300"}}); }).find("'seq' = '1e300' is not an integer") != std::string::npos);
  CHECK(error_of([] { (void)Config::from_metadata({{"conv", "yes"}}); }).find("'conv' = 'yes' is not 1 or 0") != std::string::npos);
  CHECK(error_of([] { (void)Config::from_metadata({{"act", "swish"}}); }).find("swish") != std::string::npos);
  CHECK(err([](Config& c) { c.patch = 3; c.seq = 33; }).find("gdim 32") != std::string::npos);
  // the models validate before their member initialisers divide by the patch size
  Config zero = tiny_megabyte();
  zero.patch = 0;
  CHECK(error_of([&] { Megabyte m(zero); }).find("config: patch must be in [1, 65536], got 0") != std::string::npos);
}

TEST_CASE("metadata round-trips the config") {
  Config c = tiny_megabyte();
  c.act = nn::Activation::gelu;
  c.head = Head::untied;
  c.local_pos = false;
  c.dropout = 0.125;
  const Config d = Config::from_metadata(c.to_metadata());
  CHECK(d.to_metadata() == c.to_metadata());
}

TEST_CASE("MEGABYTE parameters: the reference names, shapes and count") {
  Config c = tiny_megabyte();
  Megabyte m(c);
  const nn::StateDict sd = m.state_dict();
  CHECK(sd.at("global.byte_embed").shape() == Shape{256, 8});
  CHECK(sd.at("global.pos_embed").shape() == Shape{32, 8});
  CHECK(sd.at("global.pad").shape() == Shape{32});
  CHECK(sd.at("global.blocks.1.attn.qkv.weight").shape() == Shape{96, 32});
  CHECK(sd.at("global_to_local.weight").shape() == Shape{16, 8});
  CHECK(sd.at("local.byte_embed").shape() == Shape{257, 16});
  CHECK(sd.at("local.pos_embed").shape() == Shape{4, 16});
  CHECK(sd.at("local.ln_f.bias").shape() == Shape{16});
  CHECK(sd.count("head.weight") == 0);
  auto block = [](int64_t d) { return 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d); };
  const int64_t expect = 256 * 8 + 32 * 8 + 32 + 2 * block(32) + 64 + 16 * 8 + 257 * 16 + 4 * 16 + 2 * block(16) + 32;
  CHECK(m.num_parameters() == expect);
  c.head = Head::untied;
  c.local_pos = false;
  Megabyte u(c);
  CHECK(u.state_dict().count("head.bias") == 1);
  CHECK(u.state_dict().count("local.pos_embed") == 0);
  CHECK(u.num_parameters() == expect - 4 * 16 + 256 * 16 + 256);
  // init: N(0, 0.02) weights, zero biases, unit LayerNorm weights
  CHECK(std::abs(std::sqrt(var(m.global_byte_embed).item()) - 0.02) < 0.002);
  CHECK(max(abs(sd.at("global.blocks.0.attn.qkv.bias"))).item() == 0);
  CHECK(mean(sd.at("local.blocks.1.ln2.weight")).item() == 1);
}

TEST_CASE("FLOPs follow the paper's 2T(m_g/P + m_l) accounting") {
  const Config c = tiny_megabyte();
  Megabyte m(c);
  const double B = 3, T = 32, K = 8;
  const double global = 2 * 2 * (B * K) * (12 * 32.0 * 32 + 2 * K * 32);
  const double local = 2 * 2 * (B * T) * (12 * 16.0 * 16 + 2 * 4 * 16);
  CHECK(m.forward_flops(3) == doctest::Approx(global + local + 2 * B * T * (8 + 256) * 16));
}

TEST_CASE("FLOPs count the conv encoder: 2 per weight per byte, as model_size counts its weights") {
  Config c = tiny_megabyte();
  const Config plain = c;
  c.conv = true;
  const double DG = double(c.dg()), conv_weights = model_size(c).global_embed - model_size(plain).global_embed - 3 * DG;
  CHECK(conv_weights == DG * DG * (3 + 5 + 7));
  CHECK(forward_flops_per_byte(c) - forward_flops_per_byte(plain) == doctest::Approx(2 * conv_weights));
}

TEST_CASE("ln_eps reaches every LayerNorm of the model") {
  Config c = tiny_megabyte();
  c.ln_eps = 0.25;
  Megabyte m(c);
  int norms = 0;
  for (const nn::Transformer* t : {&m.global, &m.local}) {
    for (const auto& b : t->blocks) norms += (b->ln1.eps == 0.25) + (b->ln2.eps == 0.25);
    norms += t->ln_f.eps == 0.25;
  }
  CHECK(norms == 2 * (2 * c.glayers + 1));
  // and it changes the output: the same weights with the default eps predict otherwise
  Megabyte d(tiny_megabyte());
  d.load_state_dict(m.state_dict());
  const Tensor x = Tensor::from_vector<int64_t>(std::vector<int64_t>(32, 7), {1, 32});
  CHECK(max_abs_diff(m.forward(x), d.forward(x)) > 1e-4);
}

TEST_CASE("the config table: every field has a flag, help and metadata key, and round-trips as text") {
  const Config d;
  const auto meta = d.to_metadata();
  CHECK(Config::fields().size() == meta.size());
  for (const FieldInfo& f : Config::fields()) {
    INFO(f.key);
    CHECK(meta.count(f.key) == 1);
    CHECK(meta.at(f.key) == f.default_text);
    CHECK(std::string(f.help).size() > 5);
  }
  Config c = tiny_megabyte();
  c.mids = {{2, 16, 1, 2}};
  c.cross_patch = 1;
  c.ln_eps = 1e-6;
  c.init_std = 0.1 + 0.2;  // not exact in binary: must survive the trip bit for bit
  const Config back = Config::from_metadata(c.to_metadata());
  CHECK(back.mids == c.mids);
  CHECK(back.ln_eps == c.ln_eps);
  CHECK(back.init_std == c.init_std);
  CHECK(back.to_metadata() == c.to_metadata());
}

TEST_CASE("causality: MEGABYTE (tied and untied, with and without local positions)") {
  Config c = tiny_megabyte();
  check_causality(Megabyte(c));
  c.head = Head::untied;
  c.local_pos = false;
  c.act = nn::Activation::gelu;
  check_causality(Megabyte(c));
}

TEST_CASE("causality: the byte-transformer baseline") { check_causality(ByteTransformer(tiny_baseline())); }

TEST_CASE("causality: MEGABYTE with cross-patch attention") {
  for (int64_t r : {1, 2, 4}) {
    Config c = tiny_megabyte();
    c.cross_patch = r;
    Megabyte m(c);
    m.init_parameters(3);
    INFO("r = ", r);
    check_causality(m);
  }
  Config bad = tiny_megabyte();
  bad.cross_patch = 5;
  CHECK(error_of([&] { bad.validate(); }).find("cross_patch (r) must be in [0, P = 4], got 5") != std::string::npos);
}

TEST_CASE("cross-patch attention: a sequence sees the last r positions of the one before, in its group") {
  nn::CausalSelfAttention a(8, 2);
  a.prefix = 2;
  uint64_t off = 0;
  for (Tensor* p : a.parameters()) nn::normal_(*p, 0.5, 1, off);
  const Tensor x = Tensor::randn({6, 4, 8}, 2);  // 2 groups of 3 sequences of 4 positions
  NoGradGuard g;
  const Tensor ref = a.forward(x, 3);
  auto moves = [&](int64_t seq, int64_t pos, int64_t out_seq) {
    Tensor y = clone(x);
    fill_(narrow(narrow(y, 0, seq, 1), 1, pos, 1), 2.0);
    return max_abs_diff(narrow(a.forward(y, 3), 0, out_seq, 1), narrow(ref, 0, out_seq, 1)) > 0;
  };
  CHECK(moves(0, 3, 1));   // the previous sequence's last position
  CHECK(moves(0, 2, 1));   // and the one before it (r = 2)
  CHECK(!moves(0, 1, 1));  // but no further back
  CHECK(!moves(0, 3, 2));  // nor two sequences back
  CHECK(!moves(2, 3, 3));  // nor across groups
  CHECK(moves(1, 0, 1));   // its own past, as always
}

TEST_CASE("cross-patch attention carries information across patches in the model") {
  auto depends = [](int64_t r, int64_t j) {  // do the logits of patch 3 move with byte j?
    Config c = tiny_megabyte();
    c.glayers = 0;  // the global model then only hands patch k-1's bytes to patch k
    c.llayers = 1;
    c.cross_patch = r;
    Megabyte m(c);
    m.init_parameters(3);
    const Tensor x = random_bytes(1, 32, 4);
    Tensor y = clone(x);
    fill_(narrow(y, 1, j, 1), double((int64_t(y.at({0, j})) + 1) % 256));
    NoGradGuard g;
    return max_abs_diff(narrow(m.forward(y), 1, 12, 4), narrow(m.forward(x), 1, 12, 4)) > 0;
  };
  CHECK(!depends(0, 6));  // without it, patch 1 (bytes 4..7) is out of patch 3's reach
  CHECK(depends(2, 6));   // with it, through patch 2's last keys, which hold patch 1's bytes
  CHECK(depends(0, 10));  // patch 2 through the global input, in both
}

TEST_CASE("three levels: names, parameter count, causality") {
  Config c = megabyte_config(64, 16, 64, 16, 2);  // global over patches of 16 bytes (D_G 4)
  c.mids = {{4, 32, 2, 2}};                        // a middle level over units of 4 bytes (d 8)
  Megabyte m(c);
  m.init_parameters(3);
  const nn::StateDict sd = m.state_dict();
  CHECK(sd.at("mid.0.from_above.weight").shape() == Shape{8, 4});
  CHECK(sd.at("mid.0.byte_embed").shape() == Shape{257, 8});
  CHECK(sd.at("mid.0.pos_embed").shape() == Shape{16, 8});
  CHECK(sd.at("mid.0.blocks.1.attn.qkv.weight").shape() == Shape{96, 32});
  CHECK(sd.at("mid_to_local.weight").shape() == Shape{16, 8});
  CHECK(sd.at("local.pos_embed").shape() == Shape{4, 16});
  CHECK(sd.count("global_to_local.weight") == 0);
  CHECK(model_size(c).total() == double(m.num_parameters()));
  check_causality(m);
  Config d = c;
  d.mids = {{8, 32, 1, 2}, {2, 16, 1, 2}};  // four levels
  Megabyte four(d);
  four.init_parameters(4);
  CHECK(model_size(d).total() == double(four.num_parameters()));
  check_causality(four);
  CHECK(Config::from_metadata(d.to_metadata()).mids == d.mids);
  Config bad = c;
  bad.mids = {{5, 40, 1, 2}};
  CHECK(error_of([&] { bad.validate(); }).find("its patch 5 must divide the patch 16") != std::string::npos);
  CHECK(error_of([] { (void)Config::from_metadata({{"mid", "4:32:2"}}); }).find("PATCH:WIDTH:LAYERS:HEADS") != std::string::npos);
}

TEST_CASE("causality: MEGABYTE with the convolutional patch encoder") {
  Config c = tiny_megabyte();
  c.conv = true;
  Megabyte m(c);
  m.init_parameters(3);  // non-zero conv weights
  CHECK(m.state_dict().at("global.conv.2.weight").shape() == Shape{8, 8, 7});
  CHECK(model_size(c).total() == double(m.num_parameters()));
  check_causality(m);
}

TEST_CASE("a model saved with our writer and reloaded gives identical logits") {
  const Config c = tiny_megabyte();
  Megabyte a(c);
  a.init_parameters(42);
  const std::string path = (std::filesystem::temp_directory_path() / "mb_test_model.safetensors").string();
  nn::save_safetensors(path, a.state_dict(), c.to_metadata());
  const nn::SafeTensors st = nn::load_safetensors(path);
  const Config c2 = Config::from_metadata(st.metadata);
  auto b = make_model(c2);
  b->load_state_dict(st.tensors);
  const Tensor x = random_bytes(2, 32, 3);
  NoGradGuard g;
  CHECK(max_abs_diff(a.forward(x), b->forward(x)) == 0);
  std::filesystem::remove(path);
  // a checkpoint of another config is refused by name
  Config other = c;
  other.ldim = 32;
  Megabyte wrong(other);
  INFO(error_of([&] { wrong.load_state_dict(st.tensors); }));
  CHECK(error_of([&] { wrong.load_state_dict(st.tensors); }).find("'global_to_local.weight' has shape [16, 8]") != std::string::npos);
}

TEST_CASE("the paper's variants survive a save and load through a checkpoint") {
  Config c = megabyte_config(64, 16, 64, 16, 2);
  c.conv = true;
  c.cross_patch = 2;
  c.mids = {{4, 32, 1, 2}};
  c.act = nn::Activation::gelu;
  Megabyte a(c);
  a.init_parameters(8);
  const std::string path = (std::filesystem::temp_directory_path() / "mb_test_variants.safetensors").string();
  save_checkpoint(path, a, nullptr, {{"step", "0"}});
  const auto b = load_model(path);
  CHECK(b->config().to_metadata() == c.to_metadata());
  const Tensor x = random_bytes(2, 64, 6);
  NoGradGuard g;
  CHECK(max_abs_diff(a.forward(x), b->forward(x)) == 0);
  std::filesystem::remove(path);
}

TEST_CASE("bad model input is refused") {
  Megabyte m(tiny_megabyte());
  CHECK(error_of([&] { (void)m.forward(random_bytes(1, 30, 1)); }).find("not a multiple of the patch size 4") != std::string::npos);
  CHECK(error_of([&] { (void)m.forward(random_bytes(1, 36, 1)); }).find("takes 1 to 32") != std::string::npos);
  CHECK(error_of([&] { (void)m.forward(Tensor::zeros({1, 32})); }).find("bytes") != std::string::npos);
  // a shorter input (whole patches) is fine
  CHECK(m.forward(random_bytes(1, 8, 1)).shape() == Shape{1, 8, 256});
}

TEST_CASE("dropout is active in training only and reproducible from its stream") {
  Config c = tiny_megabyte();
  c.dropout = 0.2;
  Megabyte m(c);
  const Tensor x = random_bytes(1, 32, 5);
  NoGradGuard g;
  nn::DropoutStream d1{9, 0}, d2{9, 0}, d3{10, 0};
  const Tensor a = m.forward(x, &d1), b = m.forward(x, &d2), z = m.forward(x, &d3);
  CHECK(max_abs_diff(a, b) == 0);
  CHECK(max_abs_diff(a, z) > 0);
  CHECK(max_abs_diff(a, m.forward(x)) > 0);
  m.train(false);
  nn::DropoutStream d4{9, 0};
  CHECK(max_abs_diff(m.forward(x, &d4), m.forward(x)) == 0);
}

TEST_CASE("overfit: a tiny MEGABYTE memorises a 512-byte text to < 0.05 bits per byte") {
  const std::string text =
      "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
      "must be in want of a wife. However little known the feelings or views of such a man may be "
      "on his first entering a neighbourhood, this truth is so well fixed in the minds of the "
      "surrounding families, that he is considered the rightful property of some one or other of "
      "their daughters. \"My dear Mr. Bennet,\" said his lady to him one day, \"have you heard that "
      "Netherfield Park is let at last?\" Mr. Bennet replied that he had not. \"But it is,\" returned she.";
  REQUIRE(text.size() >= 512);
  Megabyte m(megabyte_config(512, 8, 128, 64, 4));
  const Tensor x = reshape(Tensor::from_vector(std::vector<uint8_t>(text.begin(), text.begin() + 512), {512}), {1, 512});
  nn::AdamW opt(m.named_parameters(), {0.9, 0.95, 1e-8, 0.0});
  double bpb = 8;
  int step = 0;
  for (; step < 400 && bpb >= 0.05; ++step) {
    m.zero_grad();
    const Tensor loss = m.loss(x);
    bpb = loss.item() / std::log(2.0);
    backward(loss);
    nn::clip_grad_norm(m.parameters(), 1.0);
    opt.step(step < 20 ? 3e-3 * (step + 1) / 20 : 3e-3);
  }
  INFO("bits per byte ", bpb, " after ", step, " steps");
  CHECK(bpb < 0.05);
}

TEST_CASE("info's analytic parameter counts equal the built models' for the trainable presets") {
  for (const char* name : {"tiny", "small", "baseline-tiny", "baseline-small"}) {
    const Config c = find_preset(name).config;
    INFO(name);
    CHECK(model_size(c).total() == double(make_model(c)->num_parameters()));
  }
  Config c = tiny_megabyte();
  c.head = Head::untied;
  c.local_pos = false;
  CHECK(model_size(c).total() == double(Megabyte(c).num_parameters()));
  CHECK(error_of([] { (void)find_preset("huge"); }).find("unknown preset 'huge' (known: tiny, small") != std::string::npos);
}

TEST_CASE("activation recomputation gives the same loss and gradients, dropout included") {
  for (const char* kind : {"megabyte", "baseline"}) {
    Config c = tiny_megabyte();
    c.dropout = 0.1;
    if (std::string(kind) == "baseline") {
      c.model = "baseline";
      c.head = Head::untied;
    }
    auto plain = make_model(c), recomputed = make_model(c);
    plain->to(DType::F64);
    recomputed->to(DType::F64);
    recomputed->set_recompute(true);
    const Tensor x = random_bytes(2, 32, 4);
    nn::DropoutStream d1{5, 0}, d2{5, 0};
    const Tensor l1 = plain->loss(x, &d1), l2 = recomputed->loss(x, &d2);
    CHECK(l1.item() == l2.item());
    backward(l1);
    backward(l2);
    const auto p1 = plain->named_parameters(), p2 = recomputed->named_parameters();
    for (size_t i = 0; i < p1.size(); ++i) {
      INFO(kind, " ", p1[i].first);
      REQUIRE(p2[i].second->grad().defined());
      CHECK(max_abs_diff(p1[i].second->grad(), p2[i].second->grad()) < 1e-13);
    }
  }
}

TEST_CASE("the paper presets carry the paper's init and training recipe") {
  for (const Preset& p : presets()) {
    if (p.name.rfind("paper", 0) != 0) continue;
    INFO(p.name);
    CHECK(p.config.init_std == 0.006);
    CHECK(p.config.init_trunc == 2);
    CHECK(p.config.dropout == 0.1);
    TrainOptions o;
    o.from_metadata(p.recipe);
    CHECK(o.beta1 == 0.9);
    CHECK(o.beta2 == 0.98);
    CHECK(o.schedule == nn::LrSchedule::Kind::polynomial);
    CHECK(o.min_lr == 0);
    CHECK(o.warmup == 500);
    CHECK(o.clip == 1);
    CHECK(o.weight_decay == 0.1);
    CHECK(o.batch == p.batch);
    CHECK((o.lr == 2e-4 || o.lr == 1.5e-4 || o.lr == 3e-4));
  }
  // a model made with init_trunc 2 has every weight within 2 std
  Config c = tiny_megabyte();
  c.init_std = 0.006;
  c.init_trunc = 2;
  Megabyte m(c);
  CHECK(max(abs(m.global_byte_embed)).item() <= 0.012);
  CHECK(max(abs(m.local.blocks[0]->mlp.fc1.weight)).item() <= 0.012);
}
