// The CPU backend's one strided loop: visits every element of N same-shape operands (inputs
// broadcast by stride-0 views) row by row. Dimensions that are contiguous in every operand
// are merged first, so a contiguous tensor is a single row that the compiler vectorises.
#pragma once
#include <array>

#include "tensor/parallel.h"
#include "tensor/tensor.h"

namespace mb::cpu {

template <size_t N> using Ptrs = std::array<char*, N>;
template <size_t N> using Steps = std::array<int64_t, N>;  // bytes between row elements

// Calls row(ptrs, steps, n) for every innermost row of `shape`, in parallel over rows.
// `shape` is the shared shape; operands[i] gives pointer and strides (in elements).
template <size_t N, class Row>
void for_each_row(const Shape& shape, const std::array<const Tensor*, N>& operands, Row row) {
  // strides in bytes, size-1 dims dropped, contiguous neighbours merged
  Shape dims;
  std::array<Shape, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const bool merge = !dims.empty() && [&] {
      for (size_t i = 0; i < N; ++i)
        if (st[i].back() != operands[i]->strides()[d] * shape[d]) return false;
      return true;
    }();
    if (merge) {
      dims.back() *= shape[d];
      for (size_t i = 0; i < N; ++i) st[i].back() = operands[i]->strides()[d];
    } else {
      dims.push_back(shape[d]);
      for (size_t i = 0; i < N; ++i) st[i].push_back(operands[i]->strides()[d]);
    }
  }
  Ptrs<N> base;
  Steps<N> inner{};
  for (size_t i = 0; i < N; ++i) {
    const int64_t es = int64_t(dtype_size(operands[i]->dtype()));
    base[i] = static_cast<char*>(operands[i]->raw_data());
    for (auto& s : st[i]) s *= es;
    inner[i] = dims.empty() ? es : st[i].back();
  }
  if (numel_of(shape) == 0) return;
  if (dims.empty()) {  // a single element
    row(base, inner, int64_t(1));
    return;
  }
  // Work items are pieces of rows: a long row (a contiguous tensor is one row) is cut into
  // blocks so that both threads get work; rows of a few elements are grouped per thread.
  const int64_t n = dims.back(), outer_dims = int64_t(dims.size()) - 1;
  const int64_t rows = numel_of(Shape(dims.begin(), dims.end() - 1));
  constexpr int64_t kBlock = 1 << 14;
  const int64_t pieces = (n + kBlock - 1) / kBlock, piece_len = std::min(n, kBlock);
  parallel_for(0, rows * pieces, std::max<int64_t>(1, kBlock / piece_len), [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t r = w / pieces, j0 = (w % pieces) * kBlock;
      Ptrs<N> p = base;
      for (int64_t d = outer_dims - 1, rem = r; d >= 0; --d) {
        const int64_t idx = rem % dims[size_t(d)];
        rem /= dims[size_t(d)];
        for (size_t i = 0; i < N; ++i) p[i] += idx * st[i][size_t(d)];
      }
      for (size_t i = 0; i < N; ++i) p[i] += j0 * inner[i];
      row(p, inner, std::min(kBlock, n - j0));
    }
  });
}

// Element j of a row: a typed reference at p + j * step.
template <class T> inline T& elem(char* p, int64_t step, int64_t j) {
  return *reinterpret_cast<T*>(p + j * step);
}

// Calls f(T{}) for the floating dtypes the CPU computes in (f32, f64).
template <class F> decltype(auto) visit_float(DType d, F&& f) {
  if (d == DType::F64) return f(double{});
  return f(float{});
}

}  // namespace mb::cpu
