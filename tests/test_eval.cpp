// Evaluation: sliding windows and strided inference against brute-force, byte-by-byte
// computations of their definitions.
#include <cmath>

#include "helpers.h"
#include "megabyte/evaluate.h"

using namespace mb;
using namespace mb::test;

namespace {

std::vector<uint8_t> some_bytes(size_t n) {
  std::vector<uint8_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = uint8_t((i * 7919 + 13) % 256);
  return d;
}

// -log p(bytes[at]) when `input` is fed to the model, padded with zeros to whole patches
double nats_at(const ByteModel& m, std::vector<uint8_t> input, size_t at) {
  const int64_t P = m.config().patch;
  const size_t len = (input.size() + size_t(P) - 1) / size_t(P) * size_t(P);
  input.resize(len, 0);
  const Tensor x = reshape(Tensor::from_vector(input, {int64_t(len)}), {1, int64_t(len)});
  NoGradGuard g;
  return cross_entropy(m.forward(x), x, Reduction::none).at({0, int64_t(at)});
}

std::unique_ptr<ByteModel> model() {
  auto m = make_model(megabyte_config(16, 4, 32, 16, 2));
  m->init_parameters(9);
  m->to(DType::F64);  // the brute force batches differently: compare in f64
  return m;
}

}  // namespace

TEST_CASE("sliding windows: each byte scored once, by the window that ends nearest after it") {
  const auto m = model();
  const std::vector<uint8_t> d = some_bytes(50);
  const std::vector<double> got = byte_nats(*m, d, 0, 50, eval_windows(16, 8, false, 3));
  REQUIRE(got.size() == 50);
  for (size_t t = 0; t < 50; ++t) {
    // windows of 16 start every 8 bytes; the first scores its own 16, each later one its last
    // 8; the last, [40, 56), is cut at the end of the data
    size_t end = 16;
    while (end <= t) end += 8;
    const size_t start = end - 16, stop = std::min<size_t>(end, 50);
    INFO("byte ", t);
    CHECK(got[t] == doctest::Approx(nats_at(*m, {d.begin() + std::ptrdiff_t(start), d.begin() + std::ptrdiff_t(stop)}, t - start)).epsilon(1e-12));
  }
}

TEST_CASE("strided inference: each byte from the pass where it is in the first half of its patch") {
  const auto m = model();
  const std::vector<uint8_t> d = some_bytes(37);
  const std::vector<double> got = byte_nats(*m, d, 0, 37, eval_windows(16, 0, true, 2));
  std::vector<uint8_t> shifted(2, 0);  // P/2 zero bytes in front
  shifted.insert(shifted.end(), d.begin(), d.end());
  double differs = 0;
  for (size_t t = 0; t < 37; ++t) {
    const size_t a0 = t / 16 * 16;  // pass A: the window of 16 holding byte t
    const double a = nats_at(*m, {d.begin() + std::ptrdiff_t(a0), d.begin() + std::ptrdiff_t(std::min<size_t>(a0 + 16, 37))}, t - a0);
    const size_t s = t + 2, b0 = s / 16 * 16;  // pass B: byte t sits at s in the shifted bytes
    const double b = nats_at(*m, {shifted.begin() + std::ptrdiff_t(b0), shifted.begin() + std::ptrdiff_t(std::min<size_t>(b0 + 16, 39))}, s - b0);
    const double want = (t - a0) % 4 < 2 ? a : b;
    differs = std::max(differs, std::abs(a - b));
    INFO("byte ", t);
    CHECK(got[t] == doctest::Approx(want).epsilon(1e-12));
  }
  CHECK(differs > 1e-3);  // the two passes do disagree: the choice between them is tested
}

TEST_CASE("evaluation options are checked") {
  const auto m = model();
  const std::vector<uint8_t> d = some_bytes(40);
  CHECK(error_of([&] { (void)byte_nats(*m, d, 0, 40, eval_windows(16, 6, false, 2)); }).find("--stride 6 must be a multiple of 4") != std::string::npos);
  CHECK(error_of([&] { (void)byte_nats(*m, d, 0, 40, eval_windows(32, 0, false, 2)); }).find("the model's T = 16") != std::string::npos);
  Config c = megabyte_config(16, 1, 8, 8, 2);
  auto p1 = make_model(c);
  CHECK(error_of([&] { (void)byte_nats(*p1, d, 0, 40, eval_windows(16, 0, true, 2)); }).find("P >= 2") != std::string::npos);
}
