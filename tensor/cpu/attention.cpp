// CPU fused causal attention, flash-style: for each (batch, head) and each block of queries,
// the keys are visited block by block with an online softmax, so no T x T score matrix is
// ever stored; only the log-sum-exp of each query row is saved for the backward pass.
//
// q (B, H, Tq, D), k and v (B, H, Tk, D), Tq <= Tk. Query i sits at position Tk - Tq + i (the
// last Tq positions: a full sequence when Tq = Tk, new tokens against a KV cache otherwise) and
// sees keys 0 .. Tk - Tq + i. Every operand is a strided view whose last dim has stride 1: the
// heads are read from (and their gradients written into) a packed (B, T, 3, H, D) QKV tensor,
// a KV cache, or a (B, T, H, D) output in place, with no copies.
#include "tensor/cpu/eigen.h"
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"
#include "tensor/cpu/row_bodies.h"
#include "tensor/cpu/sgemm.h"

namespace mb::cpu {
namespace {

constexpr int64_t kBlockQ = 64, kBlockK = 128;

template <class T> using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using Map = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;
template <class T> using CMap = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;

struct Dims {
  int64_t BH, Tq, Tk, D;
  explicit Dims(const Tensor& q, const Tensor& k)
      : BH(q.shape()[0] * q.shape()[1]), Tq(q.shape()[2]), Tk(k.shape()[2]), D(q.shape()[3]) {}
  int64_t shift() const { return Tk - Tq; }  // position of query 0
};

// Heads a thread must get before a second thread is worth waking: ~64k multiply-adds of work
// (one query against a few cached keys, as in decoding, stays on the calling thread).
int64_t heads_per_thread(const Dims& d) { return std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, d.Tq * d.Tk * d.D)); }

// The (T, D) matrices of a (B, H, T, D) view, one per batch-head, rows at stride strides[2]; the
// view's pointer and strides are read once, not per head (a local model has thousands of heads
// of 8 x 32, where reading them through the Tensor cost a tenth of its attention's time).
template <class T> struct Heads {
  T* base;
  int64_t H, s0, s1, rows, cols, rs;
  explicit Heads(const Tensor& t)
      : base(static_cast<T*>(t.raw_data())), H(t.shape()[1]), s0(t.strides()[0]), s1(t.strides()[1]),
        rows(t.shape()[2]), cols(t.shape()[3]), rs(t.strides()[2]) {}
  T* at(int64_t bh) const { return base + (bh / H) * s0 + (bh % H) * s1; }
  Map<T> operator[](int64_t bh) const { return Map<T>(at(bh), rows, cols, Eigen::OuterStride<>(rs)); }
  CMap<T> in(int64_t bh) const { return CMap<T>(at(bh), rows, cols, Eigen::OuterStride<>(rs)); }
};
// The log-sum-exp row of batch-head bh of a contiguous (B, H, T)
template <class T> T* lse_row(const Tensor& lse, int64_t bh) {
  return static_cast<T*>(lse.raw_data()) + bh * lse.shape()[2];
}

// c (+)= a·b for Eigen blocks, maps and their transposes: f32 on our packed GEMM, whose AVX-512
// micro-kernel runs where the CPU has one (Eigen's is compiled for the build's AVX2), serial on
// this thread (each thread has its own heads); f64 by Eigen. c has unit column stride.
template <class T, class A, class B, class C> void gemm(const A& a, const B& b, C&& c, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (gemm_isa() != GemmIsa::generic) {
      sgemm(a.rows(), b.cols(), a.cols(), a.data(), a.rowStride(), a.colStride(), b.data(), b.rowStride(),
            b.colStride(), c.data(), c.rowStride(), accumulate);
      return;
    }
  }
  if (accumulate) c.noalias() += a * b;
  else c.noalias() = a * b;
}

// Scores of queries [i0, i0 + nq) against keys [j0, j0 + nk), scaled, with future keys at -inf.
template <class T>
void masked_scores(const CMap<T>& Q, const CMap<T>& K, int64_t i0, int64_t nq, int64_t j0,
                   int64_t nk, int64_t shift, T scale, Mat<T>& S) {
  S.resize(nq, nk);
  gemm<T>(Q.middleRows(i0, nq), K.middleRows(j0, nk).transpose(), S, false);
  S *= scale;
  for (int64_t r = 0; r < nq; ++r)
    for (int64_t c = std::max<int64_t>(0, shift + i0 + r + 1 - j0); c < nk; ++c)
      S(r, c) = -std::numeric_limits<T>::infinity();
}

// Short sequences (a local model's P bytes): plain loops over one head at a time. Eigen's
// block machinery costs more than the arithmetic at 8 x 8 x 32; the dot products over D below
// vectorise, and the exps run on whole rows padded to the vector width, where one exp per
// score (mostly in a scalar tail) took a quarter of the time.
constexpr int64_t kShort = 32;
constexpr int64_t kFewQueries = 4;  // queries that take forward_rows against a longer cache

// element (i, 0) of a strided map
template <class M> auto row(M& m, int64_t i) { return m.data() + i * m.outerStride(); }

// (the simd reduction lets the compiler keep one partial sum per lane: same order every call)
template <class T> T dot(const T* a, const T* b, int64_t D) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}
// out (D) = Σ_c<n coef[c·cs] · X[c·ldx : c·ldx + D], each column summed in c's order from 0, 8
// columns at a time in registers (summed in out, each step waited for the last one's store)
template <class T> void combine(const T* coef, int64_t cs, int64_t n, const T* X, int64_t ldx, int64_t D, T* out) {
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    T acc[8] = {};
    for (int64_t c = 0; c < n; ++c)
      for (int e = 0; e < 8; ++e) acc[e] += coef[c * cs] * X[c * ldx + d + e];
    std::copy(acc, acc + 8, out + d);
  }
  for (; d < D; ++d) {
    T acc = 0;
    for (int64_t c = 0; c < n; ++c) acc += coef[c * cs] * X[c * ldx + d];
    out[d] = acc;
  }
}

// P (Tq, w) = exp(Q Kᵀ · scale - m_i), w = Tk rounded up to 8 (the vector width), for each query
// row i; 0 for the keys it cannot see (0 .. shift + i are seen) and for the padding. m_i = the
// row's max, or L[i] where given (the backward's saved log-sum-exp).
template <class T>
void short_probs(const CMap<T>& Q, const CMap<T>& K, T scale, int64_t shift, const T* L, Mat<T>& P, T* m) {
  const int64_t Tq = Q.rows(), w = (K.rows() + 7) / 8 * 8, D = Q.cols();
  P.resize(Tq, w);
  for (int64_t i = 0; i < Tq; ++i) {
    T* s = row(P, i);
    m[i] = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j <= shift + i; ++j) m[i] = std::max(m[i], s[j] = dot(row(Q, i), row(K, j), D) * scale);
    if (L) m[i] = L[i];
    for (int64_t j = 0; j < w; ++j) s[j] = j <= shift + i ? s[j] - m[i] : -std::numeric_limits<T>::infinity();
  }
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> all(P.data(), Tq * w);  // (one run of whole vectors)
  all = exp_ftz(all);
}

template <class T>
void forward_short(const CMap<T>& Q, const CMap<T>& K, const CMap<T>& V, T scale, int64_t shift, Map<T>& O, T* L,
                   Mat<T>& S) {
  const int64_t Tq = Q.rows(), D = Q.cols();
  T m[kShort];
  short_probs(Q, K, scale, shift, static_cast<const T*>(nullptr), S, m);
  for (int64_t i = 0; i < Tq; ++i) {  // O_i = Σ_j (P_ij / l_i) V_j
    const T l = S.row(i).sum();
    for (int64_t j = 0; j <= shift + i; ++j) S(i, j) /= l;
    combine(row(S, i), 1, shift + i + 1, V.data(), V.outerStride(), D, row(O, i));
    L[i] = m[i] + std::log(l);
  }
}

// A few queries against a long KV cache (decoding): one query row at a time, all its scores
// at once in p (Tk long; Eigen's, aligned alike on every thread, since Eigen's sums start with
// scalar steps up to the first aligned element), where the blocked loop below would run the
// online softmax's bookkeeping for every block of one row.
template <class T>
void forward_rows(const CMap<T>& Q, const CMap<T>& K, const CMap<T>& V, T scale, int64_t shift, Map<T>& O, T* L,
                  Eigen::Matrix<T, Eigen::Dynamic, 1>& p) {
  p.resize(K.rows());
  for (int64_t i = 0; i < Q.rows(); ++i)  // query i sees keys 0 .. shift + i
    L[i] = attend_row(row(Q, i), K.data(), K.outerStride(), V.data(), V.outerStride(), shift + i + 1, Q.cols(), scale,
                      p.data(), row(O, i));
}

// dS_ij = P_ij (dO_i·V_j - Δ_i) · scale; dQ_i = Σ_j dS_ij K_j, dK_j = Σ_i dS_ij Q_i, dV_j = Σ_i
// P_ij dO_i over the pairs that see each other. dS: scratch.
template <class T>
void backward_short(const CMap<T>& Q, const CMap<T>& K, const CMap<T>& V, const CMap<T>& O, const CMap<T>& dO,
                    const T* L, T scale, int64_t shift, Map<T>& dQ, Map<T>& dK, Map<T>& dV, Mat<T>& P,
                    Mat<T>& dS) {
  const int64_t Tq = Q.rows(), Tk = K.rows(), D = Q.cols();
  T m[kShort];
  short_probs(Q, K, scale, shift, L, P, m);
  dS.resize(Tq, P.cols());
  for (int64_t i = 0; i < Tq; ++i) {
    const T delta = dot(row(dO, i), row(O, i), D);
    for (int64_t j = 0; j <= shift + i; ++j) dS(i, j) = P(i, j) * (dot(row(dO, i), row(V, j), D) - delta) * scale;
    combine(row(dS, i), 1, shift + i + 1, K.data(), K.outerStride(), D, row(dQ, i));
  }
  for (int64_t j = 0; j < Tk; ++j) {  // the queries i >= j - shift see key j
    const int64_t i0 = std::max<int64_t>(0, j - shift);
    combine(&P(i0, j), P.outerStride(), Tq - i0, row(dO, i0), dO.outerStride(), D, row(dV, j));
    combine(&dS(i0, j), dS.outerStride(), Tq - i0, row(Q, i0), Q.outerStride(), D, row(dK, j));
  }
}

template <class T>
void forward_t(const Tensor& q, const Tensor& k, const Tensor& v, T scale, const Tensor& out,
               const Tensor& lse) {
  const Dims d(q, k);
  const Heads<T> qs(q), ks(k), vs(v), os(out);
  parallel_for(0, d.BH, heads_per_thread(d), [&](int64_t lo, int64_t hi) {
    Mat<T> S, acc;
    Eigen::Matrix<T, Eigen::Dynamic, 1> m, l, p;
    for (int64_t bh = lo; bh < hi; ++bh) {
      const CMap<T> Q = qs.in(bh), K = ks.in(bh), V = vs.in(bh);
      Map<T> O = os[bh];
      T* L = lse_row<T>(lse, bh);
      if (d.Tk <= kShort) {
        forward_short(Q, K, V, scale, d.shift(), O, L, S);
        continue;
      }
      if (d.Tq <= kFewQueries) {
        forward_rows(Q, K, V, scale, d.shift(), O, L, p);
        continue;
      }
      for (int64_t i0 = 0; i0 < d.Tq; i0 += kBlockQ) {
        const int64_t nq = std::min(kBlockQ, d.Tq - i0), kend = d.shift() + i0 + nq;
        m.setConstant(nq, -std::numeric_limits<T>::infinity());
        l.setZero(nq);
        acc.setZero(nq, d.D);
        for (int64_t j0 = 0; j0 < kend; j0 += kBlockK) {
          const int64_t nk = std::min(kBlockK, kend - j0);
          masked_scores(Q, K, i0, nq, j0, nk, d.shift(), scale, S);
          for (int64_t r = 0; r < nq; ++r) {
            const T mnew = std::max(m[r], S.row(r).maxCoeff());
            const T corr = std::exp(m[r] - mnew);  // exp(-inf) = 0 on the first block
            S.row(r) = exp_ftz(S.row(r).array() - mnew);
            l[r] = l[r] * corr + S.row(r).sum();
            acc.row(r) *= corr;
            m[r] = mnew;
          }
          gemm<T>(S, V.middleRows(j0, nk), acc, true);
        }
        for (int64_t r = 0; r < nq; ++r) {
          O.row(i0 + r) = acc.row(r) / l[r];
          L[i0 + r] = m[r] + std::log(l[r]);
        }
      }
    }
  });
}

// With P = exp(S - lse) recomputed block by block and Δ_i = Σ_d dO_i·O_i:
// dV += Pᵀ dO, dS = P ∘ (dO Vᵀ - Δ), dQ += dS K · scale, dK += dSᵀ Q · scale.
template <class T>
void backward_t(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                const Tensor& lse, const Tensor& gout, T scale, const Tensor& gq,
                const Tensor& gk, const Tensor& gv) {
  const Dims d(q, k);
  const Heads<T> qs(q), ks(k), vs(v), os(out), gos(gout), gqs(gq), gks(gk), gvs(gv);
  parallel_for(0, d.BH, heads_per_thread(d), [&](int64_t lo, int64_t hi) {
    Mat<T> S, dP;
    Eigen::Matrix<T, Eigen::Dynamic, 1> delta;
    for (int64_t bh = lo; bh < hi; ++bh) {
      const CMap<T> Q = qs.in(bh), K = ks.in(bh), V = vs.in(bh), O = os.in(bh), dO = gos.in(bh);
      const T* L = lse_row<T>(lse, bh);
      Map<T> dQ = gqs[bh], dK = gks[bh], dV = gvs[bh];
      if (d.Tk <= kShort) {  // (writes every row of dQ, dK, dV)
        backward_short(Q, K, V, O, dO, L, scale, d.shift(), dQ, dK, dV, S, dP);
        continue;
      }
      dQ.setZero();
      dK.setZero();
      dV.setZero();
      delta = (dO.array() * O.array()).rowwise().sum();
      for (int64_t i0 = 0; i0 < d.Tq; i0 += kBlockQ) {
        const int64_t nq = std::min(kBlockQ, d.Tq - i0), kend = d.shift() + i0 + nq;
        for (int64_t j0 = 0; j0 < kend; j0 += kBlockK) {
          const int64_t nk = std::min(kBlockK, kend - j0);
          masked_scores(Q, K, i0, nq, j0, nk, d.shift(), scale, S);
          for (int64_t r = 0; r < nq; ++r) S.row(r) = exp_ftz(S.row(r).array() - L[i0 + r]);
          gemm<T>(S.transpose(), dO.middleRows(i0, nq), dV.middleRows(j0, nk), true);
          dP.resize(nq, nk);
          gemm<T>(dO.middleRows(i0, nq), V.middleRows(j0, nk).transpose(), dP, false);
          for (int64_t r = 0; r < nq; ++r)
            S.row(r) = S.row(r).array() * (dP.row(r).array() - delta[i0 + r]) * scale;
          gemm<T>(S, K.middleRows(j0, nk), dQ.middleRows(i0, nq), true);
          gemm<T>(S.transpose(), Q.middleRows(i0, nq), dK.middleRows(j0, nk), true);
        }
      }
    }
  });
}

}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
               const Tensor& out, const Tensor& lse) {
  if (q.dtype() == DType::F64) forward_t<double>(q, k, v, scale, out, lse);
  else forward_t<float>(q, k, v, float(scale), out, lse);
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                        const Tensor& lse, const Tensor& gout, double scale, const Tensor& gq,
                        const Tensor& gk, const Tensor& gv) {
  if (q.dtype() == DType::F64) backward_t<double>(q, k, v, out, lse, gout, scale, gq, gk, gv);
  else backward_t<float>(q, k, v, out, lse, gout, float(scale), gq, gk, gv);
}

}  // namespace mb::cpu
