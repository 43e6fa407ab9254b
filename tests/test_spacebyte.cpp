// SpaceByte (megabyte/spacebyte.h): its patch starts and config rules, causality with the three
// patchers, a batch of rows with different numbers of starts against each row alone, the
// cached decoder against the full pass, the parameter count from the config, and that it
// learns.
#include <string>

#include "helpers.h"
#include "megabyte/checkpoint.h"
#include "megabyte/evaluate.h"
#include "megabyte/generate.h"
#include "megabyte/spacebyte.h"
#include "nn/optim.h"

using namespace mb;
using namespace mb::test;

namespace {

Config tiny_spacebyte(PatchRule rule) {
  Config c;
  c.model = "spacebyte";
  c.patcher = rule;
  c.seq = 32;
  c.patch = 4;
  c.gdim = 24;
  c.glayers = 1;
  c.gheads = 2;
  c.ldim = 16;
  c.llayers = 3;  // two blocks before the global ones, one after
  c.lheads = 2;
  c.init_std = 0.2;  // large enough that every part moves the logits
  c.validate();
  return c;
}

// A random byte transformer (T = 32, weights N(0, 0.5): its entropies spread over bits) saved
// as an entropy model in `dir`; its file. It loads in f32, as every checkpoint does.
std::string save_entropy_model(const TempDir& dir) {
  Config e;
  e.model = "baseline";
  e.seq = 32, e.patch = 1, e.gdim = 16, e.glayers = 1, e.gheads = 2, e.ldim = 1, e.llayers = 0, e.lheads = 1;
  e.head = Head::untied;
  e.init_std = 0.5;
  const auto m = make_model(e);
  m->init_parameters(9);
  const std::string file = dir / "entropy.safetensors";
  save_checkpoint(file, *m, nullptr, {});
  return file;
}

const std::string kText = "in the beginning, was the word; ";

// tiny_spacebyte with entropy patches from the model in `file`, its threshold chosen for a mean
// patch of 2.5 bytes on kText
Config entropy_spacebyte(const std::string& file, EntropyRule rule) {
  Config c = tiny_spacebyte(PatchRule::fixed);
  c.patcher = PatchRule::entropy;
  c.entropy_model = file;
  c.entropy_rule = rule;
  c.entropy_theta = entropy_threshold(next_byte_entropy(*load_model(file), {kText.begin(), kText.end()}), rule, 2.5, 4);
  c.validate();
  return c;
}

Tensor text_rows(const std::vector<std::string>& rows) {
  std::vector<uint8_t> v;
  for (const std::string& r : rows) v.insert(v.end(), r.begin(), r.end());
  return reshape(Tensor::from_vector(v, {int64_t(v.size())}), {int64_t(rows.size()), int64_t(rows[0].size())});
}

}  // namespace

TEST_CASE("spacebyte: the starts are the patcher's, and its config rules name the field") {
  const std::string s = "to be, or not to be";
  const std::vector<uint8_t> bytes(s.begin(), s.end());
  CHECK(SpaceByte(tiny_spacebyte(PatchRule::space)).starts(bytes) == space_patches(bytes, 4));
  CHECK(SpaceByte(tiny_spacebyte(PatchRule::fixed)).starts(bytes) == fixed_patches(int64_t(bytes.size()), 4));
  // "be," ends at its comma; the space after it follows a space-like byte and starts nothing
  CHECK(space_patches(bytes, 4) == std::vector<int64_t>{0, 3, 6, 10, 14, 17});
  Config c = tiny_spacebyte(PatchRule::space);
  c.gdim = 8;
  CHECK(error_of([&] { c.validate(); }).find("global width gdim 8 must be at least the local width ldim 16") !=
        std::string::npos);
  c = tiny_spacebyte(PatchRule::fixed);
  c.patcher = PatchRule::entropy;
  CHECK(error_of([&] { c.validate(); }).find("--patcher entropy and --entropy-model go together") != std::string::npos);
  c.entropy_model = "no/such/model.safetensors";
  CHECK(error_of([&] { SpaceByte{c}; }).find("entropy model 'no/such/model.safetensors' (config entropy_model") !=
        std::string::npos);
  Config m;
  m.patcher = PatchRule::space;
  CHECK(error_of([&] { m.validate(); }).find("--patcher and --entropy-model are spacebyte options") != std::string::npos);
  CHECK(Config::from_metadata(tiny_spacebyte(PatchRule::space).to_metadata()).patcher == PatchRule::space);
}

TEST_CASE("spacebyte with entropy patches: the starts are the entropy patcher's over the entropy model's bits") {
  const TempDir dir("spacebyte_entropy");
  const std::string file = save_entropy_model(dir);
  const std::vector<uint8_t> bytes(kText.begin(), kText.end());
  const std::vector<double> H = next_byte_entropy(*load_model(file), bytes);
  for (EntropyRule rule : {EntropyRule::above, EntropyRule::rise}) {
    INFO("rule ", name_of(rule));
    const Config c = entropy_spacebyte(file, rule);
    const std::vector<int64_t> s = SpaceByte(c).starts(bytes);
    CHECK(s == entropy_patches(H, c.entropy_theta, rule, 4));
    CHECK(mean_patch_length(s, 32) == doctest::Approx(2.5).epsilon(0.25));  // the threshold's target
    CHECK(s != fixed_patches(32, 4));
  }
  Config c = entropy_spacebyte(file, EntropyRule::above);
  c.entropy_theta = 0;
  CHECK(error_of([&] { SpaceByte(c).forward(text_rows({kText})); }).find("entropy threshold is not chosen") !=
        std::string::npos);
  c.seq = 64;  // longer than the entropy model's window
  CHECK(error_of([&] { SpaceByte{c}; }).find("reads 32 bytes, fewer than T = 64") != std::string::npos);
}

TEST_CASE("causality: spacebyte with fixed, space and entropy patches") {
  const TempDir dir("spacebyte_entropy_causal");
  check_causality(SpaceByte(entropy_spacebyte(save_entropy_model(dir), EntropyRule::rise)));
  check_causality(SpaceByte(tiny_spacebyte(PatchRule::fixed)));
  check_causality(SpaceByte(tiny_spacebyte(PatchRule::space)));
  // text, where the starts move with the words: a space typed at j moves the starts after j only
  const SpaceByte m(tiny_spacebyte(PatchRule::space));
  const Tensor x = text_rows({"the cat sat on the mat and then "});
  NoGradGuard g;
  const Tensor ref = m.forward(x);
  for (int64_t j : {2, 3, 9, 20}) {
    Tensor y = clone(x);
    fill_(narrow(y, 1, j, 1), double(j % 2 ? ' ' : 'q'));
    CHECK(max_abs_diff(narrow(m.forward(y), 1, 0, j + 1), narrow(ref, 1, 0, j + 1)) == 0);
  }
}

TEST_CASE("spacebyte: a batch gives each row what the row alone gives (rows with different numbers of starts)") {
  SpaceByte m(tiny_spacebyte(PatchRule::space));
  m.to(DType::F64);
  const std::vector<std::string> rows = {"a b c d e f g h i j k l m n o p ", "abcdefghijklmnopqrstuvwxyzABCDEF",
                                         "one two three four five six sev "};
  NoGradGuard g;
  const Tensor batch = m.forward(text_rows(rows));
  for (size_t r = 0; r < rows.size(); ++r) {
    INFO("row ", r);
    CHECK(max_abs_diff(narrow(batch, 0, int64_t(r), 1), m.forward(text_rows({rows[r]}))) < 1e-13);
  }
}

TEST_CASE("spacebyte: the global blocks' output reaches every position's logits (through the start at 0)") {
  SpaceByte m(tiny_spacebyte(PatchRule::space));
  m.to(DType::F64);
  const Tensor x = text_rows({"ab cd ef gh ij kl mn op qr st uv"});
  NoGradGuard g;
  const Tensor ref = m.forward(x);
  // zero the global blocks' output projections: the model is then its local blocks alone
  for (auto& b : m.global) {
    fill_(b->attn.proj.weight, 0.0);
    fill_(b->attn.proj.bias, 0.0);
    fill_(b->mlp.fc2.weight, 0.0);
    fill_(b->mlp.fc2.bias, 0.0);
  }
  const Tensor local_only = m.forward(x);
  // the first start is position 0, and the local blocks after carry what is added there onwards
  for (int64_t t = 0; t < 32; ++t) CHECK(max_abs_diff(narrow(ref, 1, t, 1), narrow(local_only, 1, t, 1)) > 1e-9);
}

TEST_CASE("spacebyte: cached decoding equals the full pass at every position, prompt batched or byte by byte") {
  const TempDir dir("spacebyte_entropy_cache");
  const std::string file = save_entropy_model(dir);
  for (PatchRule rule : {PatchRule::fixed, PatchRule::space, PatchRule::entropy}) {
    SpaceByte m(rule == PatchRule::entropy ? entropy_spacebyte(file, EntropyRule::above) : tiny_spacebyte(rule));
    m.to(DType::F64);
    const std::string& s = kText;
    const Tensor full = m.forward(text_rows({s}));
    INFO("patcher ", name_of(rule));
    auto dec = cached_decoder(m);
    for (int64_t t = 0; t < 20; ++t) {
      CHECK(max_abs_diff(dec->next_logits(), reshape(narrow(full, 1, t, 1), {Config::vocab})) < 1e-12);
      dec->push(uint8_t(s[size_t(t)]));
    }
    auto batched = cached_decoder(m);
    for (int64_t t = 0; t < 25; ++t) batched->push(uint8_t(s[size_t(t)]));  // one pass of 25 positions
    CHECK(max_abs_diff(batched->next_logits(), reshape(narrow(full, 1, 25, 1), {Config::vocab})) < 1e-12);
    batched->push(uint8_t(s[25]));
    CHECK(max_abs_diff(batched->next_logits(), reshape(narrow(full, 1, 26, 1), {Config::vocab})) < 1e-12);
  }
}

TEST_CASE("spacebyte with entropy patches: past T the decoder slides, and its starts and entropies restart with it") {
  const TempDir dir("spacebyte_entropy_slide");
  SpaceByte m(entropy_spacebyte(save_entropy_model(dir), EntropyRule::rise));
  m.to(DType::F64);
  const std::string s = kText + "and the word was with the end. ";  // 63 bytes: two slides at T = 32
  auto dec = cached_decoder(m);
  for (char ch : s) {
    dec->next_logits();  // one position at a time
    dec->push(uint8_t(ch));
  }
  const int64_t n = dec->size();  // the bytes kept after the last slide
  CHECK(n < 32);
  // the full pass over the kept bytes and a placeholder after them: position n's logits
  const Tensor full = m.forward(text_rows({s.substr(s.size() - size_t(n)) + " "}));
  CHECK(max_abs_diff(dec->next_logits(), reshape(narrow(full, 1, n, 1), {Config::vocab})) < 1e-12);
}

TEST_CASE("spacebyte: the parameter count from the config equals the built model's") {
  for (Head head : {Head::tied, Head::untied}) {
    Config c = tiny_spacebyte(PatchRule::space);
    c.head = head;
    SpaceByte m(c);
    CHECK(model_size(c).total() == double(m.num_parameters()));
  }
}

TEST_CASE("spacebyte's FLOPs per byte: local blocks at every byte, global blocks at every start, by hand") {
  const Config c = tiny_spacebyte(PatchRule::space);
  // local 2·3·(12·16² + 2·32·16) = 24576; global 2·1·(12·24² + 2·(32/4)·24)/4 = 3648; head 2·16·256 = 8192
  CHECK(forward_flops_per_byte(c) == 36416);
  CHECK(forward_flops_per_byte(c, 4.0) == 36416);  // P is the mean when none is given
  // at a mean of 2 bytes: the global blocks twice as often, over twice as many starts
  CHECK(forward_flops_per_byte(c, 2.0) == 24576 + 2.0 * (12 * 24 * 24 + 2 * 16 * 24) / 2 + 8192);
}

TEST_CASE("spacebyte learns: 80 AdamW steps on a sentence take its loss below a quarter") {
  SpaceByte m(tiny_spacebyte(PatchRule::space));
  m.train(true);
  nn::AdamW opt(m.named_parameters());
  const Tensor x = text_rows({"the quick brown fox jumps over t", "he lazy dog, and the quick brown"});
  double first = 0, last = 0;
  for (int step = 0; step < 80; ++step) {
    m.zero_grad();
    const Tensor loss = m.loss(x);
    backward(loss);
    opt.step(1e-2);
    (step == 0 ? first : last) = loss.item();
  }
  CHECK(last < first / 4);
}
