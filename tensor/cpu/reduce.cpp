// CPU reductions of the middle dim of a contiguous (A, R, N) tensor -> (A, N). The op layer
// views x this way without copying when the reduced axes are adjacent (a bias gradient is
// A = 1, R = B·T, N = C), and permutes them together otherwise. Each output element is summed
// in an order fixed by the shape alone (eight lanes over r; rows longer than kChunk in fixed
// chunks), so results do not depend on the thread count.
#include <limits>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {

namespace {

// floats and doubles accumulate in double, integers in int64
template <class T> using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// Σ row[r] for r < R in a fixed order: eight running sums (lane j takes r ≡ j mod 8, so the
// additions are independent and vectorise instead of waiting on each other), then a fixed tree
// and the tail in order
template <class T> Acc<T> sum_row(const T* row, int64_t R) {
  Acc<T> lane[8] = {};
  int64_t r = 0;
  for (; r + 8 <= R; r += 8)
    for (int j = 0; j < 8; ++j) lane[j] += Acc<T>(row[r + j]);
  Acc<T> acc = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
  for (; r < R; ++r) acc += Acc<T>(row[r]);
  return acc;
}

// x (A, R) rows -> out (A) sums, for rows longer than kChunk: fixed chunks of a row summed
// apart (so the threads share even one row), then the chunks' sums in order
constexpr int64_t kChunk = 16384;
template <class T> void sum_long_rows(const T* x, int64_t A, int64_t R, const Tensor& out) {
  const int64_t C = (R + kChunk - 1) / kChunk;
  std::vector<Acc<T>> part(static_cast<size_t>(A * C));
  parallel_for(0, A * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t r0 = w % C * kChunk;
      part[size_t(w)] = sum_row(x + w / C * R + r0, std::min(kChunk, R - r0));
    }
  });
  for (int64_t a = 0; a < A; ++a) {
    Acc<T> acc = 0;
    for (int64_t c = 0; c < C; ++c) acc += part[size_t(a * C + c)];
    static_cast<T*>(out.raw_data())[a] = T(acc);
  }
}

// x (A, R) rows -> out (A): sum, max or argmax (first index of the maximum; NaN wins)
template <class T> void reduce_rows(ReduceOp op, const T* x, int64_t A, int64_t R, const Tensor& out) {
  if (op == ReduceOp::sum && R > kChunk) return sum_long_rows(x, A, R, out);
  parallel_for(0, A, std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t a = lo; a < hi; ++a) {
      const T* row = x + a * R;
      if (op == ReduceOp::sum) {
        static_cast<T*>(out.raw_data())[a] = T(sum_row(row, R));
        continue;
      }
      int64_t best = 0;
      for (int64_t r = 1; r < R; ++r) {
        if (row[best] != row[best]) break;
        if (row[r] > row[best] || row[r] != row[r]) best = r;
      }
      if (op == ReduceOp::max) static_cast<T*>(out.raw_data())[a] = row[best];
      else static_cast<int64_t*>(out.raw_data())[a] = best;
    }
  });
}

// x (A, R, N) summed over R: runs of N are added in place into a double accumulator, so the
// inner loop is contiguous and vectorises; threads split the (a, column block) pairs.
template <class T> void sum_middle(const T* x, int64_t A, int64_t R, int64_t N, const Tensor& out) {
  constexpr int64_t kCols = 512;
  const int64_t blocks = (N + kCols - 1) / kCols;
  parallel_for(0, A * blocks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<Acc<T>> acc(static_cast<size_t>(kCols));
    for (int64_t w = lo; w < hi; ++w) {
      const int64_t a = w / blocks, n0 = (w % blocks) * kCols, n = std::min(kCols, N - n0);
      std::fill(acc.begin(), acc.begin() + n, Acc<T>(0));
      for (int64_t r = 0; r < R; ++r) {
        const T* src = x + (a * R + r) * N + n0;
        for (int64_t j = 0; j < n; ++j) acc[size_t(j)] += Acc<T>(src[j]);
      }
      T* dst = static_cast<T*>(out.raw_data()) + a * N + n0;
      for (int64_t j = 0; j < n; ++j) dst[j] = T(acc[size_t(j)]);
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t N, const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bf16>) {
      throw Error("reduce: bf16 is a storage type; convert to f32 first");
    } else {
      const T* xp = static_cast<const T*>(x.raw_data());
      if (N == 1) reduce_rows(op, xp, A, R, out);
      else if (op == ReduceOp::sum) sum_middle(xp, A, R, N, out);
      else throw Error("reduce: max/argmax over a middle dim needs the axes moved last first");
    }
  });
}

}  // namespace mb::cpu
