// CPU row-wise kernels over the last dim of contiguous (N, C) tensors: softmax and
// log-softmax, layer norm, cross-entropy. Each row is an Eigen array expression, so exp, sums
// and products run in SIMD registers; f32 rows compute in f32, f64 rows in f64. One row is one
// unit of parallel work and every sum over a row is computed the same way whatever the thread
// count, so results are bitwise reproducible.
#include <cmath>
#include <limits>

#include "tensor/cpu/eigen.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/row_bodies.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {
namespace {

template <class T> using Row = Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>>;
template <class T> using CRow = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;

// Calls f(n) for every row n of an (N, C) problem, in parallel.
template <class F> void rows(int64_t N, int64_t C, F f) {
  parallel_for(0, N, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t n = lo; n < hi; ++n) f(n);
               });
}

// log Σ exp(x), stable; -inf for a row of -inf (everything masked)
template <class T> T logsumexp(const CRow<T>& x) {
  const T m = x.maxCoeff();
  if (std::isinf(m)) return m;
  return m + std::log(exp_ftz(x - m).sum());
}

int64_t last_dim(const Tensor& t) { return t.dim() ? t.shape().back() : 1; }
int64_t row_count(const Tensor& t) { return t.numel() / std::max<int64_t>(last_dim(t), 1); }

template <class T> const T* cdata(const Tensor& t) { return static_cast<const T*>(t.raw_data()); }
template <class T> T* mdata(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

}  // namespace

void softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    rows(N, C, [&](int64_t n) {
      const CRow<T> xr(cdata<T>(x) + n * C, C);
      Row<T> yr(mdata<T>(y) + n * C, C);
      const T lse = logsumexp(xr);
      if (log) yr = xr - lse;
      else yr = exp_ftz(xr - lse);
    });
  });
}

// softmax: gx = y * (gy - Σ gy·y);  log_softmax: gx = gy - exp(y) * Σ gy
void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  const int64_t C = last_dim(y), N = row_count(y);
  visit_float(y.dtype(), [&](auto z) {
    using T = decltype(z);
    rows(N, C, [&](int64_t n) {
      const CRow<T> yr(cdata<T>(y) + n * C, C), gr(cdata<T>(gy) + n * C, C);
      Row<T> o(mdata<T>(gx) + n * C, C);
      if (log) o = gr - exp_ftz(yr) * gr.sum();
      else o = yr * (gr - (gr * yr).sum());
    });
  });
}

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                const Tensor& mean, const Tensor& rstd) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* wp = w.defined() ? cdata<T>(w) : nullptr;
    const T* bp = b.defined() ? cdata<T>(b) : nullptr;
    rows(N, C, [&](int64_t n) {
      const auto [mu, r] = layer_norm_row(cdata<T>(x) + n * C, wp, bp, C, T(eps), mdata<T>(y) + n * C);
      mdata<T>(mean)[n] = mu;
      mdata<T>(rstd)[n] = r;
    });
  });
}

// With h = (x - μ)·rstd and g = gy·w:  gx = rstd · (g - mean(g) - h · mean(g·h)),
// gw = Σ_rows gy·h, gb = Σ_rows gy. The column sums go over fixed blocks of rows, then the
// blocks in order, so they do not depend on the thread count.
void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean,
                         const Tensor& rstd, const Tensor& gy, const Tensor& gx,
                         const Tensor& gw, const Tensor& gb) {
  const int64_t C = last_dim(x), N = row_count(x);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    using Arr = Eigen::Array<T, 1, Eigen::Dynamic>;
    // one pass over x and gy: each row's gx, and its block's sums for gw and gb (blocks of 256
    // rows, summed in order: the same on any thread count)
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (N + kBlock - 1) / kBlock;
    const bool params = gw.defined() || gb.defined();
    std::vector<Arr> pw(size_t(params ? blocks : 0), Arr::Zero(C)), pb(size_t(params ? blocks : 0), Arr::Zero(C));
    parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
      Arr g(C), h(C);  // (a row's, reused: not allocated per row)
      for (int64_t bk = lo; bk < hi; ++bk)
        for (int64_t n = bk * kBlock; n < std::min(N, (bk + 1) * kBlock); ++n) {
          const CRow<T> gr(cdata<T>(gy) + n * C, C);
          const T r = cdata<T>(rstd)[n];
          h = (CRow<T>(cdata<T>(x) + n * C, C) - cdata<T>(mean)[n]) * r;
          if (w.defined()) g = gr * CRow<T>(cdata<T>(w), C);
          else g = gr;
          const T sg = g.sum() / T(C), sgh = (g * h).sum() / T(C);
          Row<T>(mdata<T>(gx) + n * C, C) = r * (g - sg - h * sgh);
          if (!params) continue;
          pw[size_t(bk)] += gr * h;
          pb[size_t(bk)] += gr;
        }
    });
    if (!params) return;
    for (int64_t bk = 1; bk < blocks; ++bk) {
      pw[0] += pw[size_t(bk)];
      pb[0] += pb[size_t(bk)];
    }
    if (gw.defined()) Row<T>(mdata<T>(gw), C) = pw[0];
    if (gb.defined()) Row<T>(mdata<T>(gb), C) = pb[0];
  });
}

void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& losses,
                   const Tensor& lse) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_float(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    rows(N, C, [&](int64_t n) {
      const T s = logsumexp(CRow<T>(cdata<T>(logits) + n * C, C));
      mdata<T>(lse)[n] = s;
      mdata<T>(losses)[n] = s - cdata<T>(logits)[n * C + index_at(targets, n)];
    });
  });
}

// glogits = (softmax(logits) - onehot(target)) · gloss[n]
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_float(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    rows(N, C, [&](int64_t n) {
      const T g = cdata<T>(gloss)[n];
      Row<T>(mdata<T>(glogits) + n * C, C) = g * exp_ftz(CRow<T>(cdata<T>(logits) + n * C, C) - cdata<T>(lse)[n]);
      mdata<T>(glogits)[n * C + index_at(targets, n)] -= g;
    });
  });
}

}  // namespace mb::cpu
