// CPU row-wise kernels over the last dim of contiguous (N, C) tensors: softmax and
// log-softmax, layer norm, cross-entropy. Accumulations run in double; one row is one unit of
// parallel work, so results do not depend on the thread count.
#include <cmath>
#include <limits>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {
namespace {

// Calls f(n) for every row n of an (N, C) problem, in parallel.
template <class F> void rows(int64_t N, int64_t C, F f) {
  parallel_for(0, N, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t n = lo; n < hi; ++n) f(n);
               });
}

template <class T> double row_max(const T* x, int64_t C) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < C; ++j) m = std::max(m, double(x[j]));
  return m;
}

// log(sum(exp(x))) of one row, stable
template <class T> double row_logsumexp(const T* x, int64_t C) {
  const double m = row_max(x, C);
  if (std::isinf(m)) return m;
  double s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(double(x[j]) - m);
  return m + std::log(s);
}

int64_t last_dim(const Tensor& t) { return t.dim() ? t.shape().back() : 1; }

}  // namespace

void softmax(const Tensor& x, const Tensor& y, bool log) {
  const int64_t C = last_dim(x), N = x.numel() / std::max<int64_t>(C, 1);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* xp = static_cast<const T*>(x.raw_data());
    T* yp = static_cast<T*>(y.raw_data());
    rows(N, C, [&](int64_t n) {
      const T* xr = xp + n * C;
      T* yr = yp + n * C;
      const double lse = row_logsumexp(xr, C);
      for (int64_t j = 0; j < C; ++j)
        yr[j] = T(log ? double(xr[j]) - lse : std::exp(double(xr[j]) - lse));
    });
  });
}

// softmax: gx = y * (gy - Σ gy·y);  log_softmax: gx = gy - exp(y) * Σ gy
void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  const int64_t C = last_dim(y), N = y.numel() / std::max<int64_t>(C, 1);
  visit_float(y.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* yp = static_cast<const T*>(y.raw_data());
    const T* gp = static_cast<const T*>(gy.raw_data());
    T* op = static_cast<T*>(gx.raw_data());
    rows(N, C, [&](int64_t n) {
      const T *yr = yp + n * C, *gr = gp + n * C;
      T* o = op + n * C;
      double dot = 0;
      for (int64_t j = 0; j < C; ++j) dot += log ? double(gr[j]) : double(gr[j]) * double(yr[j]);
      for (int64_t j = 0; j < C; ++j)
        o[j] = log ? T(double(gr[j]) - std::exp(double(yr[j])) * dot)
                   : T(double(yr[j]) * (double(gr[j]) - dot));
    });
  });
}

void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                const Tensor& mean, const Tensor& rstd) {
  const int64_t C = last_dim(x), N = x.numel() / std::max<int64_t>(C, 1);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* xp = static_cast<const T*>(x.raw_data());
    const T* wp = w.defined() ? static_cast<const T*>(w.raw_data()) : nullptr;
    const T* bp = b.defined() ? static_cast<const T*>(b.raw_data()) : nullptr;
    T* yp = static_cast<T*>(y.raw_data());
    T* mp = static_cast<T*>(mean.raw_data());
    T* rp = static_cast<T*>(rstd.raw_data());
    rows(N, C, [&](int64_t n) {
      const T* xr = xp + n * C;
      double mu = 0, var = 0;
      for (int64_t j = 0; j < C; ++j) mu += double(xr[j]);
      mu /= double(C);
      for (int64_t j = 0; j < C; ++j) var += (double(xr[j]) - mu) * (double(xr[j]) - mu);
      const double r = 1.0 / std::sqrt(var / double(C) + eps);
      mp[n] = T(mu);
      rp[n] = T(r);
      T* yr = yp + n * C;
      for (int64_t j = 0; j < C; ++j) {
        const double h = (double(xr[j]) - mu) * r;
        yr[j] = T(h * (wp ? double(wp[j]) : 1.0) + (bp ? double(bp[j]) : 0.0));
      }
    });
  });
}

// With h = (x - μ)·rstd and g = gy·w:  gx = rstd · (g - mean(g) - h · mean(g·h)),
// gw = Σ_rows gy·h, gb = Σ_rows gy. The column sums go over fixed blocks of rows, then the
// blocks in order, so they do not depend on the thread count.
void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean,
                         const Tensor& rstd, const Tensor& gy, const Tensor& gx,
                         const Tensor& gw, const Tensor& gb) {
  const int64_t C = last_dim(x), N = x.numel() / std::max<int64_t>(C, 1);
  visit_float(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* xp = static_cast<const T*>(x.raw_data());
    const T* wp = w.defined() ? static_cast<const T*>(w.raw_data()) : nullptr;
    const T* mp = static_cast<const T*>(mean.raw_data());
    const T* rp = static_cast<const T*>(rstd.raw_data());
    const T* gp = static_cast<const T*>(gy.raw_data());
    T* op = static_cast<T*>(gx.raw_data());
    rows(N, C, [&](int64_t n) {
      const T *xr = xp + n * C, *gr = gp + n * C;
      const double mu = double(mp[n]), r = double(rp[n]);
      double sg = 0, sgh = 0;
      for (int64_t j = 0; j < C; ++j) {
        const double g = double(gr[j]) * (wp ? double(wp[j]) : 1.0);
        sg += g;
        sgh += g * (double(xr[j]) - mu) * r;
      }
      sg /= double(C);
      sgh /= double(C);
      T* o = op + n * C;
      for (int64_t j = 0; j < C; ++j) {
        const double g = double(gr[j]) * (wp ? double(wp[j]) : 1.0);
        o[j] = T(r * (g - sg - (double(xr[j]) - mu) * r * sgh));
      }
    });
    if (!gw.defined() && !gb.defined()) return;
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (N + kBlock - 1) / kBlock;
    std::vector<double> part(size_t(blocks * 2 * C), 0.0);  // per block: Σ gy·h, Σ gy
    parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t bk = lo; bk < hi; ++bk) {
        double* pw = part.data() + bk * 2 * C;
        double* pb = pw + C;
        for (int64_t n = bk * kBlock; n < std::min(N, (bk + 1) * kBlock); ++n) {
          const T *xr = xp + n * C, *gr = gp + n * C;
          const double mu = double(mp[n]), r = double(rp[n]);
          for (int64_t j = 0; j < C; ++j) {
            pw[j] += double(gr[j]) * (double(xr[j]) - mu) * r;
            pb[j] += double(gr[j]);
          }
        }
      }
    });
    for (int64_t j = 0; j < C; ++j) {
      double sw = 0, sb = 0;
      for (int64_t bk = 0; bk < blocks; ++bk) {
        sw += part[size_t(bk * 2 * C + j)];
        sb += part[size_t(bk * 2 * C + C + j)];
      }
      if (gw.defined()) static_cast<T*>(gw.raw_data())[j] = T(sw);
      if (gb.defined()) static_cast<T*>(gb.raw_data())[j] = T(sb);
    }
  });
}

void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& losses,
                   const Tensor& lse) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_float(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* xp = static_cast<const T*>(logits.raw_data());
    T* lp = static_cast<T*>(losses.raw_data());
    T* sp = static_cast<T*>(lse.raw_data());
    rows(N, C, [&](int64_t n) {
      const double s = row_logsumexp(xp + n * C, C);
      sp[n] = T(s);
      lp[n] = T(s - double(xp[n * C + index_at(targets, n)]));
    });
  });
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits) {
  const int64_t C = last_dim(logits), N = targets.numel();
  visit_float(logits.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* xp = static_cast<const T*>(logits.raw_data());
    const T* sp = static_cast<const T*>(lse.raw_data());
    const T* gp = static_cast<const T*>(gloss.raw_data());
    T* op = static_cast<T*>(glogits.raw_data());
    rows(N, C, [&](int64_t n) {
      const double g = double(gp[n]), s = double(sp[n]);
      for (int64_t j = 0; j < C; ++j) op[n * C + j] = T(g * std::exp(double(xp[n * C + j]) - s));
      op[n * C + index_at(targets, n)] -= T(g);
    });
  });
}

}  // namespace mb::cpu
