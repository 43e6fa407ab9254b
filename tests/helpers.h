// Small helpers shared by the tests.
#pragma once
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "megabyte/config.h"
#include "megabyte/evaluate.h"

namespace mb::test {

inline Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}
inline Tensor f32(const std::vector<float>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

// Every element of t equals `expect` within tol (shape checked too).
inline void check_values(const Tensor& t, const std::vector<double>& expect, double tol = 1e-12) {
  const std::vector<double> got = to(t, DType::F64).to_vector<double>();
  REQUIRE(got.size() == expect.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", expected ", expect[i]);
    CHECK(std::abs(got[i] - expect[i]) <= tol);
  }
}

// How far `got` is from `want`, element by element, both read as f64 on the CPU. Elements
// equal as values count 0 (both NaN, or the same infinity, included); a NaN or an infinity on
// one side only counts as infinitely far. rel divides by 1 + the largest finite |want|.
struct Diff {
  double abs = 0, rel = 0;
  int64_t where = -1;  // the element farthest apart (-1: all equal)
  double want = 0, got = 0;
};
inline Diff diff(const Tensor& want, const Tensor& got) {
  REQUIRE(want.shape() == got.shape());
  const std::vector<double> a = to(to(want, Device::CPU), DType::F64).to_vector<double>();
  const std::vector<double> b = to(to(got, Device::CPU), DType::F64).to_vector<double>();
  Diff d;
  double scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isfinite(a[i])) scale = std::max(scale, std::abs(a[i]));
    const bool same = a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]));
    double e = same ? 0 : std::abs(a[i] - b[i]);
    if (std::isnan(e)) e = INFINITY;
    if (e > d.abs) d = {e, 0, int64_t(i), a[i], b[i]};
  }
  d.rel = d.abs / (1 + scale);
  return d;
}
inline double max_abs_diff(const Tensor& a, const Tensor& b) { return diff(a, b).abs; }
inline double rel_error(const Tensor& want, const Tensor& got) { return diff(want, got).rel; }

// The message of the mb::Error that f throws ("" when it throws none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A fresh folder under the system's temporary folder, removed with everything in it at the end.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("mb_test_" + std::to_string(::getpid()) + "_" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// A MEGABYTE config of the given sizes, `layers` global and local layers.
inline Tensor random_bytes(int64_t B, int64_t T, uint64_t seed) {
  return to(mul_scalar(Tensor::rand({B, T}, seed, 0, DType::F64), 256.0), DType::U8);
}

// Changing byte j must leave every logit that predicts bytes 0..j unchanged (they see only
// bytes before their own) and change some later one.
inline void check_causality(const ByteModel& model) {
  const int64_t T = model.config().seq;
  const Tensor x = random_bytes(2, T, 7);
  NoGradGuard g;
  const Tensor ref = model.forward(x);
  for (int64_t j : {int64_t(0), int64_t(1), int64_t(3), int64_t(4), T / 2, T - 2, T - 1}) {
    Tensor y = clone(x);
    fill_(narrow(y, 1, j, 1), double((int64_t(y.at({0, j})) + 1) % 256));
    const Tensor out = model.forward(y);
    INFO("changed byte ", j);
    CHECK(max_abs_diff(narrow(out, 1, 0, j + 1), narrow(ref, 1, 0, j + 1)) == 0);
    if (j < T - 1) CHECK(max_abs_diff(narrow(out, 1, j + 1, T - j - 1), narrow(ref, 1, j + 1, T - j - 1)) > 0);
  }
}

// Eval options by value: window, stride, strided, windows per pass.
inline EvalOptions eval_windows(int64_t window, int64_t stride, bool strided, int64_t batch) {
  EvalOptions o;
  o.window = window;
  o.stride = stride;
  o.strided = strided;
  o.batch = batch;
  return o;
}

inline Config megabyte_config(int64_t seq, int64_t patch, int64_t gdim, int64_t ldim, int64_t heads,
                              int64_t layers = 2) {
  Config c;
  c.seq = seq;
  c.patch = patch;
  c.gdim = gdim;
  c.ldim = ldim;
  c.glayers = c.llayers = layers;
  c.gheads = c.lheads = heads;
  return c;
}

}  // namespace mb::test
