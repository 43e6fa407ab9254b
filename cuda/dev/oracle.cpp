// The CPU oracle: the slowest, most obvious loops, accumulating in double. See oracle.h.
#include "oracle.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace lab::oracle {

void softmax_rows(const float* x, float* y, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    float* yr = y + size_t(r) * cols;
    double m = -INFINITY;
    for (int c = 0; c < cols; ++c) m = std::max(m, double(xr[c]));
    double sum = 0;
    for (int c = 0; c < cols; ++c) sum += std::exp(double(xr[c]) - m);
    for (int c = 0; c < cols; ++c) yr[c] = float(std::exp(double(xr[c]) - m) / sum);
  }
}

void layernorm_forward(const float* x, const float* w, const float* b, float* y, int rows, int cols,
                       float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    float* yr = y + size_t(r) * cols;
    double mean = 0;
    for (int c = 0; c < cols; ++c) mean += xr[c];
    mean /= cols;
    double var = 0;
    for (int c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= cols;
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int c = 0; c < cols; ++c) yr[c] = float((xr[c] - mean) * rstd * w[c] + b[c]);
  }
}

void attention_causal(const float* q, const float* k, const float* v, float* out, int B, int H,
                      int T, int D) {
  const double scale = 1.0 / std::sqrt(double(D));
  std::vector<double> s(T), o(D);
  for (int bh = 0; bh < B * H; ++bh) {
    const size_t base = size_t(bh) * T * D;
    for (int i = 0; i < T; ++i) {
      const float* qi = q + base + size_t(i) * D;
      double m = -INFINITY;
      for (int j = 0; j <= i; ++j) {  // causal: keys 0..i only
        const float* kj = k + base + size_t(j) * D;
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += double(qi[d]) * kj[d];
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      double sum = 0;
      std::fill(o.begin(), o.end(), 0.0);
      for (int j = 0; j <= i; ++j) {
        const double p = std::exp(s[j] - m);
        sum += p;
        const float* vj = v + base + size_t(j) * D;
        for (int d = 0; d < D; ++d) o[d] += p * vj[d];
      }
      for (int d = 0; d < D; ++d) out[base + size_t(i) * D + d] = float(o[d] / sum);
    }
  }
}

void gemm(const float* A, const float* B, float* C, int M, int N, int K) {
  std::vector<double> acc(N);
  for (int i = 0; i < M; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int p = 0; p < K; ++p) {  // i-p-j order: the inner loop runs along rows of B and C
      const double a = A[size_t(i) * K + p];
      const float* bp = B + size_t(p) * N;
      for (int j = 0; j < N; ++j) acc[j] += a * bp[j];
    }
    for (int j = 0; j < N; ++j) C[size_t(i) * N + j] = float(acc[j]);
  }
}

// ------------------------------------------------------------------ self-checks

namespace {

int g_failed = 0, g_total = 0;

void report(bool ok, const char* what, double err, double tol) {
  ++g_total;
  if (!ok) ++g_failed;
  std::printf("  %-4s  %-58s max err %.2e (tol %.0e)\n", ok ? "ok" : "FAIL", what, err, tol);
}

// max |got[i] - want[i]|, infinite when anything is NaN.
double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(double(got[i]) - want[i]);
    if (std::isnan(d)) return INFINITY;
    e = std::max(e, d);
  }
  return e;
}

void expect(const char* what, const std::vector<float>& got, const std::vector<double>& want,
            double tol) {
  const double e = got.size() == want.size() ? max_abs_diff(got, want) : INFINITY;
  report(e <= tol, what, e, tol);
}

std::vector<float> uniform(size_t n, unsigned seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Attention written a second way, for T = 1..3: no max subtraction, weights normalised at the
// end, all in double. Agreement with the oracle checks the masking, the scale and the indexing.
std::vector<double> tiny_attention(const std::vector<float>& q, const std::vector<float>& k,
                                   const std::vector<float>& v, int BH, int T, int D) {
  std::vector<double> out(size_t(BH) * T * D, 0.0);
  for (int bh = 0; bh < BH; ++bh)
    for (int i = 0; i < T; ++i) {
      double total = 0;
      for (int j = 0; j <= i; ++j) {
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += double(q[(bh * T + i) * D + d]) * k[(bh * T + j) * D + d];
        const double w = std::exp(dot / std::sqrt(double(D)));
        total += w;
        for (int d = 0; d < D; ++d) out[(bh * T + i) * D + d] += w * v[(bh * T + j) * D + d];
      }
      for (int d = 0; d < D; ++d) out[(bh * T + i) * D + d] /= total;
    }
  return out;
}

}  // namespace

bool self_check() {
  g_failed = g_total = 0;
  std::printf("CPU oracle checks\n");

  // ---- softmax
  {
    const std::vector<float> x = {1, 2, 3};
    std::vector<float> y(3);
    softmax_rows(x.data(), y.data(), 1, 3);
    // e^1, e^2, e^3 over their sum
    expect("softmax: [1, 2, 3] by hand", y, {0.0900305731703805, 0.2447284710547976, 0.6652409557748219},
           1e-7);
    const std::vector<float> big = {1000, 1001, 1002};  // would overflow exp without the max
    softmax_rows(big.data(), y.data(), 1, 3);
    expect("softmax: [1000, 1001, 1002] (no overflow)", y,
           {0.0900305731703805, 0.2447284710547976, 0.6652409557748219}, 1e-7);
  }
  {
    const int rows = 8, cols = 37;
    std::vector<float> x = uniform(size_t(rows) * cols, 1, -4, 4), y(x.size()), ys(x.size());
    for (float& v : x) v = std::round(v * 64) / 64;  // multiples of 1/64: x + 64 is exact
    softmax_rows(x.data(), y.data(), rows, cols);
    double worst = 0;
    for (int r = 0; r < rows; ++r) {
      double s = 0;
      for (int c = 0; c < cols; ++c) s += y[size_t(r) * cols + c];
      worst = std::max(worst, std::fabs(s - 1));
    }
    report(worst <= 1e-6, "softmax: every row sums to 1 (8 x 37 random)", worst, 1e-6);
    std::vector<float> shifted = x;
    for (float& v : shifted) v += 64;
    softmax_rows(shifted.data(), ys.data(), rows, cols);
    expect("softmax: softmax(x + 64) = softmax(x)", ys, std::vector<double>(y.begin(), y.end()), 1e-7);
  }

  // ---- layer norm
  {
    const std::vector<float> x = {1, 2, 3, 4}, w = {2, 2, 2, 2}, b = {1, 1, 1, 1};
    std::vector<float> y(4);
    layernorm_forward(x.data(), w.data(), b.data(), y.data(), 1, 4, 0.0f);
    // mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25) * 2 + 1
    expect("layernorm: [1, 2, 3, 4], w = 2, b = 1, eps = 0 by hand", y,
           {-1.6832815729997477, 0.1055728090000841, 1.8944271909999159, 3.6832815729997477}, 1e-6);
  }
  {
    const int rows = 16, cols = 100;
    const std::vector<float> x = uniform(size_t(rows) * cols, 2, -3, 5);
    const std::vector<float> w(cols, 1.0f), b(cols, 0.0f);
    std::vector<float> y(x.size());
    layernorm_forward(x.data(), w.data(), b.data(), y.data(), rows, cols, 1e-5f);
    double worst_mean = 0, worst_var = 0;
    for (int r = 0; r < rows; ++r) {
      double m = 0, v = 0;
      for (int c = 0; c < cols; ++c) m += y[size_t(r) * cols + c];
      m /= cols;
      for (int c = 0; c < cols; ++c) v += (y[size_t(r) * cols + c] - m) * (y[size_t(r) * cols + c] - m);
      v /= cols;
      worst_mean = std::max(worst_mean, std::fabs(m));
      worst_var = std::max(worst_var, std::fabs(v - 1));
    }
    report(worst_mean <= 1e-6, "layernorm: w = 1, b = 0 gives row mean 0 (16 x 100)", worst_mean, 1e-6);
    // the eps = 1e-5 against a variance of ~5 moves the output variance by ~2e-6
    report(worst_var <= 1e-5, "layernorm: w = 1, b = 0 gives row variance 1", worst_var, 1e-5);
  }

  // ---- GEMM
  {
    const std::vector<float> A = {1, 2, 3, 4, 5, 6}, B = {7, 8, 9, 10, 11, 12};
    std::vector<float> C(4);
    gemm(A.data(), B.data(), C.data(), 2, 2, 3);
    // [1 2 3; 4 5 6] . [7 8; 9 10; 11 12] = [58 64; 139 154]
    expect("gemm: (2 x 3) . (3 x 2) by hand", C, {58, 64, 139, 154}, 0);
  }
  {
    const int M = 5, K = 7;
    const std::vector<float> A = uniform(size_t(M) * K, 3);
    std::vector<float> I(size_t(K) * K, 0.0f), C(size_t(M) * K);
    for (int i = 0; i < K; ++i) I[size_t(i) * K + i] = 1;
    gemm(A.data(), I.data(), C.data(), M, K, K);
    expect("gemm: A . I = A (5 x 7)", C, std::vector<double>(A.begin(), A.end()), 0);
  }

  // ---- attention
  {
    const int B = 2, H = 3, T = 5, D = 4;
    const size_t n = size_t(B) * H * T * D;
    const std::vector<float> q = uniform(n, 4), k = uniform(n, 5), v = uniform(n, 6);
    std::vector<float> out(n);
    attention_causal(q.data(), k.data(), v.data(), out.data(), B, H, T, D);
    std::vector<float> got;
    std::vector<double> want;
    for (int bh = 0; bh < B * H; ++bh)
      for (int d = 0; d < D; ++d) {
        got.push_back(out[size_t(bh) * T * D + d]);
        want.push_back(v[size_t(bh) * T * D + d]);
      }
    expect("attention: position 0 returns v[0] (B2 H3 T5 D4)", got, want, 1e-7);

    // q = 0: every visible key scores the same, so out[i] is the mean of v[0..i]
    const std::vector<float> zero(n, 0.0f);
    attention_causal(zero.data(), k.data(), v.data(), out.data(), B, H, T, D);
    std::vector<double> mean(n, 0.0);
    for (int bh = 0; bh < B * H; ++bh)
      for (int i = 0; i < T; ++i)
        for (int d = 0; d < D; ++d) {
          double s = 0;
          for (int j = 0; j <= i; ++j) s += v[(size_t(bh) * T + j) * D + d];
          mean[(size_t(bh) * T + i) * D + d] = s / (i + 1);
        }
    expect("attention: q = 0 gives the running mean of v", out, mean, 1e-6);
  }
  for (int T = 1; T <= 3; ++T) {
    const int BH = 2, D = 3;
    const size_t n = size_t(BH) * T * D;
    const std::vector<float> q = uniform(n, 10 + T, -2, 2), k = uniform(n, 20 + T, -2, 2),
                             v = uniform(n, 30 + T);
    std::vector<float> out(n);
    attention_causal(q.data(), k.data(), v.data(), out.data(), 1, BH, T, D);
    char what[80];
    std::snprintf(what, sizeof what, "attention: T = %d against a tiny loop in double", T);
    expect(what, out, tiny_attention(q, k, v, BH, T, D), 1e-6);
  }

  std::printf("oracle checks: %d of %d passed\n", g_total - g_failed, g_total);
  return g_failed == 0;
}

}  // namespace lab::oracle
