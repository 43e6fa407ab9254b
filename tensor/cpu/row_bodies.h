// The per-row bodies of two CPU kernels, shared with decoding's one-position step
// (nn/step.cpp), so that the step computes a layer norm and a query's attention exactly as the
// kernels do: layer norm (rows.cpp) and one query against its keys (attention.cpp's few-queries
// path).
#pragma once
#include <cmath>
#include <utility>

#include "tensor/cpu/eigen.h"

namespace mb::cpu {

// y (C) = (x − μ) · rstd [· w] [+ b] over one row x (C); w, b may be null. Returns (μ, rstd).
template <class T>
std::pair<T, T> layer_norm_row(const T* x, const T* w, const T* b, int64_t C, T eps, T* y) {
  using CRow = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;
  const CRow xr(x, C);
  Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> yr(y, C);
  const T mu = xr.sum() / T(C);
  const T r = T(1) / std::sqrt((xr - mu).square().sum() / T(C) + eps);
  yr = (xr - mu) * r;
  if (w) yr *= CRow(w, C);
  if (b) yr += CRow(b, C);
  return {mu, r};
}

// out (D) = softmax(scale · K q) V for one query q (D) against the n rows of K and V (rows ldk
// and ldv apart); s: room for n scores. Returns the log-sum-exp of the scaled scores.
template <class T>
T attend_row(const T* q, const T* K, int64_t ldk, const T* V, int64_t ldv, int64_t n, int64_t D, T scale, T* s, T* out) {
  using Rows = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;
  const Rows Kn(K, n, D, Eigen::OuterStride<>(ldk)), Vn(V, n, D, Eigen::OuterStride<>(ldv));
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> p(s, n);
  p = (Kn * Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(q, D)).array() * scale;
  const T m = p.maxCoeff();
  p = exp_ftz(p - m);
  const T l = p.sum();
  Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(out, D).noalias() = (p.matrix().transpose() / l) * Vn;
  return m + std::log(l);
}

}  // namespace mb::cpu
