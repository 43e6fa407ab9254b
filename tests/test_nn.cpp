// nn: layers against hand-computed values, Module names and state dicts, AdamW and clipping
// against PyTorch's formulas, schedules, and safetensors reading/writing/validation.
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "helpers.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "nn/safetensors.h"

using namespace mb;
using namespace mb::test;
namespace fs = std::filesystem;

namespace {
// No write_file_atomic temporary file (<path>.tmp.<pid>.<n>) is left beside path.
bool no_temporary_files(const std::string& path) {
  const std::string stem = fs::path(path).filename().string() + ".tmp";
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    if (e.path().filename().string().rfind(stem, 0) == 0) return false;
  return true;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("mb_test_" + std::to_string(::getpid()) + "_" + name)).string();
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}
}  // namespace

TEST_CASE("Linear computes x Wᵀ + b with PyTorch's (out, in) layout") {
  nn::Linear lin(3, 2);
  {
    NoGradGuard g;
    copy_(lin.weight, f32({1, 2, 3, 4, 5, 6}, {2, 3}));
    copy_(lin.bias, f32({10, 20}, {2}));
  }
  check_values(lin.forward(f32({1, 0, -1, 2, 2, 2}, {1, 2, 3})), {8, 18, 22, 50}, 1e-6);
  nn::Linear nobias(3, 2, false);
  CHECK(!nobias.bias.defined());
  CHECK(nobias.named_parameters().size() == 1);
}

TEST_CASE("bf16 mixed precision: Linear casts for its GEMM, a Transformer its stream, and the CPU refuses bf16 arithmetic by name") {
  nn::Linear lin(3, 2), other(3, 2);
  CHECK(lin.forward(f32({1, 0, -1}, {1, 3})).dtype() == DType::F32);  // the default casts nothing
  nn::set_compute_dtype(lin, DType::BF16);
  const std::string err = error_of([&] { (void)lin.forward(f32({1, 0, -1}, {1, 3})); });
  CHECK(err.find("linear") != std::string::npos);
  CHECK(err.find("bf16") != std::string::npos);
  // a setting of one module, not of the process: the other layer still runs in f32
  CHECK(other.forward(f32({1, 0, -1}, {1, 3})).dtype() == DType::F32);
  nn::Transformer t(8, 2, 2, {});
  nn::set_compute_dtype(t, DType::BF16);
  CHECK(t.blocks[1]->mlp.fc2.matmul_dtype == DType::BF16);
  CHECK(t.blocks[0]->attn.qkv.matmul_dtype == DType::BF16);
  CHECK(t.stream_dtype == DType::BF16);
}

TEST_CASE("normal_quantile inverts the normal CDF, and trunc_normal_ stays in range with the right spread") {
  for (double p : {1e-300, 1e-12, 0.001, 0.02425, 0.1, 0.5, 0.7, 0.97575, 0.999, 1 - 1e-12}) {
    const double x = nn::normal_quantile(p), back = 0.5 * std::erfc(-x / std::sqrt(2.0));
    INFO("p ", p, " x ", x);
    CHECK(std::abs(back - p) <= 1e-14 * std::max(p, 1e-10) + 1e-300);
  }
  CHECK(nn::normal_quantile(0.5) == 0);
  CHECK(std::abs(nn::normal_quantile(0.975) - 1.959963984540054) < 1e-14);
  // N(0, 0.006) truncated at 2 std: every value in [-0.012, 0.012]; the std of a standard
  // normal truncated at ±2 is 0.8796
  Tensor w = Tensor::zeros({200, 500});
  uint64_t offset = 0;
  nn::trunc_normal_(w, 0.006, 2, 3, offset);
  CHECK(offset == 100000);
  CHECK(max(abs(w)).item() <= 0.012);
  CHECK(max(abs(w)).item() > 0.0119);
  CHECK(std::abs(mean(w).item()) < 1e-4);
  CHECK(std::abs(std::sqrt(var(w).item()) / 0.006 - 0.87963) < 0.01);
}

TEST_CASE("Module: dotted names in registration order, state_dict, load_state_dict errors") {
  nn::Transformer t(8, 2, 2, {});
  const auto named = t.named_parameters();
  REQUIRE(named.size() == 2 * 12 + 2);
  CHECK(named[0].first == "blocks.0.ln1.weight");
  CHECK(named[2].first == "blocks.0.attn.qkv.weight");
  CHECK(named[2].second->shape() == Shape{24, 8});
  CHECK(named.back().first == "ln_f.bias");
  CHECK(t.num_parameters() == 2 * (4 * 8 + 24 * 8 + 24 + 64 + 8 + 32 * 8 + 32 + 32 * 8 + 8) + 16);
  nn::StateDict sd = t.state_dict();
  sd["blocks.1.mlp.fc1.weight"] = Tensor::zeros({3, 3});
  CHECK(error_of([&] { t.load_state_dict(sd); }).find("'blocks.1.mlp.fc1.weight' has shape [3, 3]") != std::string::npos);
  sd = t.state_dict();
  sd.erase("ln_f.weight");
  CHECK(error_of([&] { t.load_state_dict(sd); }).find("'ln_f.weight' is missing") != std::string::npos);
  sd = t.state_dict();
  sd["extra"] = Tensor::zeros({1});
  CHECK(error_of([&] { t.load_state_dict(sd); }).find("no parameter 'extra'") != std::string::npos);
  CHECK_NOTHROW(t.load_state_dict(sd, false));
}

TEST_CASE("attention layer equals the per-head composition of its definition") {
  nn::CausalSelfAttention a(6, 3);
  uint64_t off = 0;
  nn::normal_(a.qkv.weight, 0.5, 1, off);
  nn::normal_(a.qkv.bias, 0.5, 1, off);
  a.to(DType::F64);
  const Tensor x = Tensor::randn({2, 5, 6}, 3, 0, DType::F64);
  // reference: head j uses rows j·2 .. j·2+1 of each of Q, K, V; masked softmax; concat; proj
  const Tensor qkv = a.qkv.forward(x);
  std::vector<Tensor> heads;
  for (int64_t j = 0; j < 3; ++j) {
    const Tensor q = narrow(qkv, 2, 2 * j, 2), k = narrow(qkv, 2, 6 + 2 * j, 2), v = narrow(qkv, 2, 12 + 2 * j, 2);
    Tensor s = matmul(q, transpose(k, 1, 2)) * (1 / std::sqrt(2.0));
    const Tensor future = gt(reshape(Tensor::arange(0, 5), {1, 5}), reshape(Tensor::arange(0, 5), {5, 1}));
    heads.push_back(matmul(softmax(masked_fill(s, future, -1e300)), v));
  }
  const Tensor ref = a.proj.forward(concat(heads, 2));
  CHECK(max_abs_diff(a.forward(x), ref) < 1e-12);
}

TEST_CASE("AdamW follows PyTorch: decay first, bias-corrected moments, no decay on vectors") {
  Tensor w = f64({1.0, -2.0, 0.5, 3.0}, {2, 2}), b = f64({0.5, -0.5}, {2});
  w.set_requires_grad();
  b.set_requires_grad();
  nn::AdamW opt({{"w", &w}, {"b", &b}}, {0.9, 0.95, 1e-8, 0.1});
  const std::vector<double> gw = {0.1, -0.2, 0.3, 0.0}, gb = {1.0, -1.0};
  std::vector<double> pw = {1.0, -2.0, 0.5, 3.0}, pb = {0.5, -0.5}, mw(4, 0), vw(4, 0), mb(2, 0), vb(2, 0);
  const double lr = 0.01;
  for (int t = 1; t <= 3; ++t) {
    w.set_grad(f64(gw, {2, 2}));
    b.set_grad(f64(gb, {2}));
    opt.step(lr);
    auto ref = [&](std::vector<double>& p, std::vector<double>& m, std::vector<double>& v,
                   const std::vector<double>& g, double wd) {
      for (size_t i = 0; i < p.size(); ++i) {
        p[i] *= 1 - lr * wd;
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
        p[i] -= lr / (1 - std::pow(0.9, t)) * m[i] / (std::sqrt(v[i]) / std::sqrt(1 - std::pow(0.95, t)) + 1e-8);
      }
    };
    ref(pw, mw, vw, gw, 0.1);
    ref(pb, mb, vb, gb, 0.0);
  }
  check_values(w, pw, 1e-14);
  check_values(b, pb, 1e-14);
  CHECK(opt.steps() == 3);
  // a parameter without a gradient is left alone
  w.set_grad(Tensor());
  b.set_grad(f64(gb, {2}));
  opt.step(lr);
  check_values(w, pw, 1e-14);
}

TEST_CASE("clip_grad_norm scales all gradients by max_norm / (norm + 1e-6) when over") {
  Tensor a = f64({3.0}, {1}), b = f64({4.0}, {1});
  a.set_requires_grad();
  b.set_requires_grad();
  a.set_grad(f64({3.0}, {1}));
  b.set_grad(f64({4.0}, {1}));
  CHECK(nn::clip_grad_norm({&a, &b}, 1.0) == doctest::Approx(5.0));
  check_values(a.grad(), {3.0 / (5 + 1e-6)}, 1e-15);
  check_values(b.grad(), {4.0 / (5 + 1e-6)}, 1e-15);
  CHECK(nn::clip_grad_norm({&a, &b}, 10.0) == doctest::Approx(1.0).epsilon(1e-5));
  check_values(a.grad(), {3.0 / (5 + 1e-6)}, 1e-15);  // under the limit: unchanged
}

TEST_CASE("learning-rate schedules: warmup, cosine, polynomial, constant") {
  nn::LrSchedule s;
  s.lr = 1.0;
  s.min_lr = 0.1;
  s.warmup = 10;
  s.total = 110;
  CHECK(s.at(0) == doctest::Approx(0.1));
  CHECK(s.at(9) == doctest::Approx(1.0));
  CHECK(s.at(10) == doctest::Approx(1.0));
  CHECK(s.at(60) == doctest::Approx(0.55));   // halfway down the cosine
  CHECK(s.at(110) == doctest::Approx(0.1));
  CHECK(s.at(500) == doctest::Approx(0.1));
  s.kind = nn::LrSchedule::Kind::polynomial;
  s.min_lr = 0;
  CHECK(s.at(35) == doctest::Approx(0.75));   // linear decay to 0
  s.kind = nn::LrSchedule::Kind::constant;
  CHECK(s.at(100) == 1.0);
  CHECK(error_of([] { (void)from_name<nn::LrSchedule::Kind>("--schedule", "step"); }).find("'step'") != std::string::npos);
}

TEST_CASE("safetensors: every dtype round-trips with metadata, written atomically") {
  const std::string path = temp_path("roundtrip.safetensors");
  std::map<std::string, Tensor> t = {
      {"a.f64", f64({1.5, -2}, {2})},
      {"b.f32", transpose(f32({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1)},  // non-contiguous: written row-major
      {"c.bf16", to(f32({1, 2}, {2}), DType::BF16)},
      {"d.i64", Tensor::arange(0, 3)},
      {"e.i32", Tensor::from_vector<int32_t>({-7}, {1})},
      {"f.u8", Tensor::from_vector<uint8_t>({0, 255}, {1, 2})},
      {"g.empty", Tensor::zeros({0, 4})},
      {"h.scalar", Tensor::scalar(3.0)}};
  nn::save_safetensors(path, t, {{"format", "test"}});
  CHECK(no_temporary_files(path));
  const nn::SafeTensors st = nn::load_safetensors(path);
  CHECK(st.metadata.size() == 1);
  CHECK(st.metadata.at("format") == "test");
  REQUIRE(st.tensors.size() == t.size());
  for (const auto& entry : t) {
    const std::string& name = entry.first;  // (a structured binding cannot be captured by INFO)
    const Tensor& v = entry.second;
    INFO(name);
    CHECK(st.tensors.at(name).dtype() == v.dtype());
    CHECK(st.tensors.at(name).shape() == v.shape());
    if (v.numel()) CHECK(max_abs_diff(st.tensors.at(name), v) == 0);
  }
  fs::remove(path);
}

// ctest "safetensors_python_reader" runs this with MB_SAFETENSORS_SAMPLE set, then checks the
// file with tests/check_safetensors.py (the rules of the reference reader).
TEST_CASE("safetensors: a sample file for other readers") {
  const char* out = std::getenv("MB_SAFETENSORS_SAMPLE");
  const std::string path = out ? out : temp_path("sample.safetensors");
  nn::save_safetensors(path, {{"weight", f32({1.5f, -2, 3, 0.25f}, {2, 2})}, {"bias", f64({7}, {1})},
                              {"ids", Tensor::from_vector<uint8_t>({1, 2, 3}, {3})}},
                       {{"model", "megabyte"}});
  CHECK(nn::load_safetensors(path, true).tensors.size() == 3);
  if (!out) std::filesystem::remove(path);
}

TEST_CASE("safetensors: the reference fixtures load (written by the Python reference writer)") {
  const nn::SafeTensors st = nn::load_safetensors(MB_FIXTURES_DIR "/megabyte_tiny.safetensors");
  CHECK(st.metadata.at("format") == "megabyte-fixture-v1");
  CHECK(st.tensors.at("input").shape() == Shape{2, 64});
  CHECK(st.tensors.at("logits").dtype() == DType::F64);
  CHECK(st.tensors.at("global.pad").shape() == Shape{64});
}

TEST_CASE("safetensors: bad files are rejected with the file and the problem named") {
  const std::string path = temp_path("bad.safetensors");
  nn::save_safetensors(path, {{"w", f32({1, 2, 3, 4}, {2, 2})}}, {{"k", "v"}});
  const std::string good = nn::read_file(path);
  auto error_for = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_of([&] { (void)nn::load_safetensors(path); });
  };
  auto header_len = [](uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[size_t(i)] = char((n >> (8 * i)) & 0xff);
    return s;
  };
  auto with_header = [&](const std::string& json, const std::string& data) {
    return header_len(json.size()) + json + data;
  };
  const std::string data16(16, '\0');
  CHECK(error_for(good.substr(0, 5)).find("too short") != std::string::npos);
  CHECK(error_for(good.substr(0, good.size() - 3)).find("outside the") != std::string::npos);  // truncated data
  CHECK(error_for(good.substr(0, 20)).find("runs past the end") != std::string::npos);        // truncated header
  CHECK(error_for(header_len(uint64_t(1) << 40) + "{}").find("over the 100 MiB limit") != std::string::npos);
  // every single flipped bit of a file we wrote, in any byte, is refused (checksum required)
  size_t refused = 0;
  for (size_t byte = 0; byte < good.size(); ++byte)
    for (int bit : {0, 3, 7}) {
      std::string flipped = good;
      flipped[byte] = char(flipped[byte] ^ (1 << bit));
      const std::string e = error_of([&] { (void)nn::parse_safetensors(flipped, "ckpt", true); });
      INFO("flipped bit ", bit, " of byte ", byte);
      CHECK(e.rfind("ckpt: ", 0) == 0);
      refused += !e.empty();
    }
  CHECK(refused == 3 * good.size());
  CHECK(error_for(good).empty());
  CHECK(error_for(with_header("{\"w\": [1, 2", data16)).find("not valid JSON") != std::string::npos);
  CHECK(error_for(with_header("[1]", data16)).find("not a JSON object") != std::string::npos);
  CHECK(error_for(with_header(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", data16))
            .find("unsupported dtype \"F16\"") != std::string::npos);
  CHECK(error_for(with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data16))
            .find("needs 12 bytes but data_offsets give 8") != std::string::npos);
  CHECK(error_for(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data16))
            .find("overlap") != std::string::npos);
  CHECK(error_for(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data16))
            .find("'a' appears twice") != std::string::npos);
  CHECK(error_for(with_header(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data16))
            .find("bad dimension") != std::string::npos);
  CHECK(error_for(with_header(R"({"w":{"dtype":"F32","shape":[2]}})", data16)).find("needs dtype, shape and data_offsets") != std::string::npos);
  fs::remove(path);
  CHECK(error_of([&] { (void)nn::load_safetensors(path); }).find("no such file") != std::string::npos);
}

TEST_CASE("write_file_atomic leaves no temporary file and keeps the old file on failure") {
  const std::string dir = temp_path("no_such_dir");
  CHECK(error_of([&] { nn::write_file_atomic(dir + "/x.bin", "abc"); }).find("cannot open for writing") != std::string::npos);
  const std::string path = temp_path("atomic.bin");
  nn::write_file_atomic(path, "first");
  nn::write_file_atomic(path, "second");
  CHECK(nn::read_file(path) == "second");
  CHECK(no_temporary_files(path));
  fs::remove(path);
}

TEST_CASE("AttentionRecorder: each attention layer's probabilities, causal rows that sum to 1, only while alive") {
  nn::CausalSelfAttention attn(8, 2);
  uint64_t offset = 0;
  nn::normal_(attn.qkv.weight, 0.5, 1, offset);
  const Tensor x = Tensor::randn({3, 5, 8}, 2);
  std::vector<Tensor> probs;
  {
    nn::AttentionRecorder rec;
    (void)attn.forward(x);
    (void)attn.forward(x);
    probs = rec.probs;
  }
  REQUIRE(probs.size() == 2);
  CHECK(probs[0].shape() == Shape{3, 2, 5, 5});
  CHECK(max_abs_diff(sum(probs[0], {3}), Tensor::ones({3, 2, 5})) < 1e-5);  // each row a distribution
  double future = 0;
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = i + 1; j < 5; ++j) future = std::max(future, double(max(abs(narrow(narrow(probs[0], 2, i, 1), 3, j, 1))).item()));
  CHECK(future == 0);  // no weight on later positions
  CHECK(probs[0].at({0, 0, 0, 0}) == doctest::Approx(1.0));
  CHECK(probs[0].at({0, 1, 4, 0}) < 1.0);  // a later row spreads over several positions
}
