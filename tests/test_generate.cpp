// Generation: the KV-cached decoders give the logits of a full forward pass at every step;
// sampling is greedy at temperature 0, truncates as asked, and is reproducible.
#include <cmath>
#include <set>

#include "helpers.h"
#include "megabyte/evaluate.h"
#include "megabyte/generate.h"
#include "nn/step.h"
#include "tensor/parallel.h"

using namespace mb;
using namespace mb::test;

namespace {

Config config(int64_t seq, int64_t patch, bool tied, bool local_pos) {
  Config c = megabyte_config(seq, patch, 8 * patch, 16, 2);
  c.head = tied ? Head::tied : Head::untied;
  c.local_pos = local_pos;
  c.init_std = 0.2;  // larger weights than the default make any difference visible
  return c;
}

// Feeds T random bytes, first one at a time, then in chunks of uneven sizes (a prompt pushed
// without asking, which the decoder takes in batched); whenever it is asked, the decoder's
// next-byte logits must equal row t of the full forward pass over the whole sequence. In f64,
// so that the comparison sees the logic and not f32 rounding (the two paths multiply matrices
// of different shapes, which sum in different orders).
void check_cache_equivalence(ByteModel& model, bool recompute = false) {
  model.init_parameters(3);
  model.to(DType::F64);
  const int64_t T = model.config().seq;
  const Tensor x = to(mul_scalar(Tensor::rand({1, T}, 11, 0, DType::F64), 256.0), DType::U8);
  Tensor full;
  {
    NoGradGuard g;
    full = model.forward(x);  // (1, T, 256)
  }
  for (const std::vector<int64_t>& chunks : {std::vector<int64_t>{1}, std::vector<int64_t>{5, 1, 13, 2, 7, 3, 20}}) {
    auto dec = recompute ? recompute_decoder(model) : cached_decoder(model);
    double worst = 0;
    int64_t asked = 0;
    for (int64_t t = 0, i = 0; t < T; ++i) {
      worst = std::max(worst, max_abs_diff(dec->next_logits(), reshape(narrow(full, 1, t, 1), {256})));
      ++asked;
      for (int64_t end = std::min(T, t + chunks[size_t(i) % chunks.size()]); t < end; ++t)
        dec->push(uint8_t(x.at({0, t})));
    }
    INFO(model.config().summary(), ", chunks of ", std::string(chunks.size() == 1 ? "1" : "5, 1, 13, ..."), ": worst difference ", worst,
         " over ", asked, " questions");
    CHECK(worst < 1e-10);
    CHECK(dec->size() == T);
  }
}

}  // namespace

TEST_CASE("cached MEGABYTE decoding equals the full forward pass at every byte") {
  for (bool tied : {true, false})
    for (bool pos : {true, false}) {
      Megabyte m(config(48, 4, tied, pos));
      check_cache_equivalence(m);
    }
  Megabyte p1(config(12, 1, true, true));  // one byte per patch
  check_cache_equivalence(p1);
  Megabyte k1(config(8, 8, true, true));   // one patch
  check_cache_equivalence(k1);
}

TEST_CASE("cached decoding with the convolutional encoder equals the full forward pass") {
  Config c = config(48, 4, true, true);
  c.conv = true;
  Megabyte m(c);
  check_cache_equivalence(m);
}

TEST_CASE("cached decoding with cross-patch attention equals the full forward pass") {
  for (int64_t r : {1, 4}) {
    Config c = config(48, 4, true, true);
    c.cross_patch = r;
    Megabyte m(c);
    check_cache_equivalence(m);
  }
}

TEST_CASE("cached decoding through three and four levels equals the full forward pass") {
  Config c = config(48, 8, true, true);
  c.mids = {{4, 32, 2, 2}};
  Megabyte three(c);
  check_cache_equivalence(three);
  c.mids = {{4, 32, 1, 2}, {2, 16, 1, 2}};
  c.cross_patch = 1;
  Megabyte four(c);
  check_cache_equivalence(four);
}

TEST_CASE("cached baseline decoding equals the full forward pass at every byte") {
  Config c = config(40, 1, false, true);
  c.model = "baseline";
  ByteTransformer b(c);
  check_cache_equivalence(b);
}

TEST_CASE("the recomputing decoder agrees too (it is the benchmark's yardstick)") {
  Megabyte m(config(24, 4, true, true));
  check_cache_equivalence(m, true);
}

// Decoding one byte at a time takes the one-position step (nn/step.h) in every stack; the f64
// tests above hold it to the full pass's logic. Here: GELU too, and in f32 (the dtype it runs
// in for users) within rounding of the full pass, with the same bits on 1, 2 and 3 threads
// (every output element is computed by one thread, in a fixed order).
TEST_CASE("the one-position step: GELU, f32 within rounding, the same bits on any thread count") {
  Config c = config(48, 4, true, true);
  c.act = nn::Activation::gelu;
  Megabyte g(c);
  check_cache_equivalence(g);
  for (nn::Activation act : {nn::Activation::relu, nn::Activation::gelu}) {
    c.act = act;
    Megabyte m(c);
    m.init_parameters(5);
    const Tensor x = to(mul_scalar(Tensor::rand({1, c.seq}, 13, 0), 256.0), DType::U8);
    Tensor full;
    {
      NoGradGuard no_grad;
      full = m.forward(x);
    }
    const int threads = num_threads();
    std::vector<std::vector<float>> runs;
    for (int n : {1, 2, 3}) {
      set_num_threads(n);
      auto dec = cached_decoder(m);
      std::vector<float> all;
      double worst = 0;
      for (int64_t t = 0; t < c.seq; ++t) {
        const Tensor l = dec->next_logits();
        worst = std::max(worst, max_abs_diff(l, reshape(narrow(full, 1, t, 1), {256})));
        const std::vector<float> v = l.to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
        dec->push(uint8_t(x.at({0, t})));
      }
      INFO(name_of(act), ", ", n, " threads: worst difference ", worst);
      CHECK(worst < 1e-4);
      runs.push_back(all);
    }
    set_num_threads(threads);
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0] == runs[2]);
  }
}

// Decoding with bf16 weights: round_weights_to_bf16 rounds every Linear weight in place and
// keeps a bf16 copy that the one-position step reads instead. The copy holds the same values,
// so the step's logits are bitwise those of the same step reading the rounded f32 weights; and
// the rounded model differs from the original by bf16's rounding only.
static std::vector<float> decode_all(const ByteModel& m, const Tensor& x) {
  auto dec = cached_decoder(m);
  std::vector<float> all;
  for (int64_t t = 0; t < m.config().seq; ++t) {
    const std::vector<float> v = dec->next_logits().to_vector<float>();
    all.insert(all.end(), v.begin(), v.end());
    dec->push(uint8_t(x.at({0, t})));
  }
  return all;
}
TEST_CASE("decoding with bf16 weights reads the rounded values, bit for bit") {
  Megabyte m(config(48, 4, true, true));
  m.init_parameters(5);
  const Tensor x = to(mul_scalar(Tensor::rand({1, m.config().seq}, 13, 0), 256.0), DType::U8);
  const std::vector<float> f32 = decode_all(m, x);
  const Tensor w = to(m.local.blocks[0]->attn.qkv.weight, DType::F64);  // a copy
  nn::round_weights_to_bf16(m);
  const nn::Linear& qkv = m.local.blocks[0]->attn.qkv;
  REQUIRE(qkv.weight_bf16.dtype() == DType::BF16);
  CHECK(max_abs_diff(qkv.weight, w) > 0);                                  // rounded in place,
  CHECK(max_abs_diff(qkv.weight, w) <= max_abs_diff(w, mul_scalar(w, 0.0)) * std::ldexp(1.0, -8));  // half a bf16 step: 2^-8 relative
  CHECK(max_abs_diff(to(qkv.weight_bf16, DType::F32), qkv.weight) == 0);
  const std::vector<float> bf16 = decode_all(m, x);
  m.apply([](nn::Module& child) {  // the same rounded weights, read as f32
    if (auto* lin = dynamic_cast<nn::Linear*>(&child)) lin->weight_bf16 = Tensor();
  });
  CHECK(decode_all(m, x) == bf16);
  double worst = 0;
  for (size_t i = 0; i < f32.size(); ++i) worst = std::max(worst, double(std::abs(f32[i] - bf16[i])));
  INFO("bf16 vs f32 weights: worst logit difference ", worst);
  CHECK(worst > 0);
  CHECK(worst < 0.05);
}

// The bytes a step reads, counted by hand for one block of width d = 8 after 5 cached positions:
// two layer norms (2 x 2d) and the final one (2d), qkv (3d x d + 3d), proj (d x d + d), fc1
// (4d x d + 4d), fc2 (d x 4d + d), keys and values of 6 positions (2 x 6 x d); 4 bytes each,
// and the weight matrices 2 bytes each in bf16.
TEST_CASE("the bytes the one-position step reads: weights once, caches, bf16 copies at half") {
  nn::Transformer t(8, 1, 2, nn::BlockOptions{});
  const int64_t d = 8, weights = 12 * d * d, rest = 6 * d + 9 * d + 12 * d;
  CHECK(nn::one_position_bytes(t, 5) == 4 * (weights + rest));
  nn::round_weights_to_bf16(t);
  CHECK(nn::one_position_bytes(t, 5) == 2 * weights + 4 * rest);
}

TEST_CASE("decoding past T slides the context and keeps going") {
  Megabyte m(config(16, 4, true, true));
  auto dec = cached_decoder(m);
  SampleOptions o;
  o.seed = 1;
  const std::string out = generate(*dec, "abcdefghij", 40, o);
  CHECK(out.size() == 40);
  CHECK(dec->size() < 16);            // slid back to T/2 (whole patches), then grew again
  // after a slide the cache holds exactly the last bytes: equal to a fresh decoder fed them
  auto fresh = cached_decoder(m);
  std::string all = "abcdefghij" + out;
  for (size_t i = all.size() - size_t(dec->size()); i < all.size(); ++i) fresh->push(uint8_t(all[i]));
  CHECK(max_abs_diff(dec->next_logits(), fresh->next_logits()) < 1e-6);
}

TEST_CASE("sampling: greedy, top-k 1, tiny top-p all pick the argmax, and seeds reproduce") {
  const Tensor logits = Tensor::randn({256}, 4);
  const int best = int(argmax(logits, 0).item());
  SampleOptions greedy;
  greedy.temperature = 0;
  CHECK(sample_byte(logits, greedy, 0) == best);
  SampleOptions k1;
  k1.top_k = 1;
  CHECK(sample_byte(logits, k1, 7) == best);
  SampleOptions p0;
  p0.top_p = 1e-9;
  CHECK(sample_byte(logits, p0, 9) == best);
  SampleOptions s;
  s.seed = 5;
  std::vector<int> a, b;
  for (uint64_t i = 0; i < 50; ++i) {
    a.push_back(sample_byte(logits, s, i));
    b.push_back(sample_byte(logits, s, i));
  }
  CHECK(a == b);
  // top-k 3 never leaves the three most likely bytes
  const Tensor flat = Tensor::from_vector<float>(std::vector<float>(256, 0.0f), {256});
  fill_(narrow(flat, 0, 10, 3), 5.0);
  SampleOptions k3;
  k3.top_k = 3;
  for (uint64_t i = 0; i < 100; ++i) {
    const int v = sample_byte(flat, k3, i);
    CHECK((v >= 10 && v < 13));
  }
}

TEST_CASE("sampling frequencies follow the softmax at temperature 1") {
  const Tensor logits = Tensor::from_vector<float>({std::log(0.5f), std::log(0.3f), std::log(0.2f)}, {3});
  SampleOptions s;
  s.temperature = 1;
  s.top_p = 1;
  s.seed = 2;
  std::vector<int> count(3, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[size_t(sample_byte(logits, s, uint64_t(i)))];
  CHECK(std::abs(count[0] / double(n) - 0.5) < 0.015);
  CHECK(std::abs(count[1] / double(n) - 0.3) < 0.015);
  CHECK(std::abs(count[2] / double(n) - 0.2) < 0.015);
}

TEST_CASE("an options table: each option set by key through its parser, noted as given, and read back") {
  SampleOptions o;
  CHECK(o.temperature == 0.8);  // the table's default, the one `generate --help` shows
  o.set("top_p", "0.5");
  o.set("seed", "7");
  CHECK(o.top_p == 0.5);
  CHECK(o.seed == 7);
  CHECK(o.given == std::set<std::string>{"seed", "top_p"});
  CHECK(o.get("top_p") == "0.5");
  std::vector<std::string> keys;
  for (const FieldInfo& f : SampleOptions::fields()) keys.push_back(f.key);
  CHECK(keys == std::vector<std::string>{"temperature", "top_k", "top_p", "seed"});
  CHECK(error_of([&] { o.set("top_q", "1"); }).find("no sampling option 'top_q'") != std::string::npos);
  CHECK(error_of([&] { o.set("top_k", "many"); }).find("--top-k") != std::string::npos);
  EvalOptions e;
  e.set("strided", "1");
  CHECK(e.strided);
  e.set("strided", "false");
  CHECK(!e.strided);
  CHECK(error_of([&] { e.set("strided", "maybe"); }).find("--strided = 'maybe' is not 1 or 0") != std::string::npos);
}

TEST_CASE("bad sampling options are refused by name") {
  SampleOptions o;
  o.top_p = 0;
  CHECK(error_of([&] { o.validate(); }).find("--top-p must be in (0, 1]") != std::string::npos);
  o.top_p = 1.5;
  CHECK(error_of([&] { o.validate(); }).find("1.5") != std::string::npos);
  o = SampleOptions();
  o.temperature = -1;
  CHECK(error_of([&] { o.validate(); }).find("--temperature") != std::string::npos);
}
