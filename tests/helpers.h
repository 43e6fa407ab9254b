// Small helpers shared by the tests.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "megabyte/config.h"

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

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = to(a, DType::F64).to_vector<double>();
  const std::vector<double> y = to(b, DType::F64).to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

// The message of the mb::Error that f throws ("" when it throws none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A MEGABYTE config of the given sizes, `layers` global and local layers.
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
