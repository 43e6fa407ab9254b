// CPU fused causal attention, flash-style: for each (batch, head) and each block of queries,
// the keys are visited block by block with an online softmax, so no T x T score matrix is
// ever stored; only the log-sum-exp of each query row is saved for the backward pass.
//
// q (B, H, Tq, D), k and v (B, H, Tk, D), Tq <= Tk, each with dense (T, D) rows. Query i sits at position Tk - Tq + i (the
// last Tq positions: a full sequence when Tq = Tk, new tokens against a KV cache otherwise) and
// sees keys 0 .. Tk - Tq + i.
#include "tensor/cpu/eigen.h"
#include <cmath>
#include <limits>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {
namespace {

constexpr int64_t kBlockQ = 64, kBlockK = 128;

template <class T> using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using Map = Eigen::Map<Mat<T>>;
template <class T> using CMap = Eigen::Map<const Mat<T>>;

struct Dims {
  int64_t BH, Tq, Tk, D;
  explicit Dims(const Tensor& q, const Tensor& k)
      : BH(q.shape()[0] * q.shape()[1]), Tq(q.shape()[2]), Tk(k.shape()[2]), D(q.shape()[3]) {}
  int64_t shift() const { return Tk - Tq; }  // position of query 0
};

// The (rows, D) matrix of batch-head bh. Rows are dense (stride D); the B and H dims may have
// any strides, so a KV cache can be read in place through a narrowed view.
template <class T> T* head(const Tensor& t, int64_t bh) {
  const int64_t H = t.shape()[1];
  return static_cast<T*>(t.raw_data()) + (bh / H) * t.strides()[0] + (bh % H) * t.strides()[1];
}

// Scores of queries [i0, i0 + nq) against keys [j0, j0 + nk), scaled, with future keys at -inf.
template <class T>
void masked_scores(const CMap<T>& Q, const CMap<T>& K, int64_t i0, int64_t nq, int64_t j0,
                   int64_t nk, int64_t shift, T scale, Mat<T>& S) {
  S.noalias() = Q.middleRows(i0, nq) * K.middleRows(j0, nk).transpose();
  S *= scale;
  for (int64_t r = 0; r < nq; ++r)
    for (int64_t c = std::max<int64_t>(0, shift + i0 + r + 1 - j0); c < nk; ++c)
      S(r, c) = -std::numeric_limits<T>::infinity();
}

template <class T>
void forward_t(const Tensor& q, const Tensor& k, const Tensor& v, T scale, const Tensor& out,
               const Tensor& lse) {
  const Dims d(q, k);
  parallel_for(0, d.BH, 1, [&](int64_t lo, int64_t hi) {
    Mat<T> S, acc;
    Eigen::Matrix<T, Eigen::Dynamic, 1> m, l;
    for (int64_t bh = lo; bh < hi; ++bh) {
      const CMap<T> Q(head<T>(q, bh), d.Tq, d.D), K(head<T>(k, bh), d.Tk, d.D),
          V(head<T>(v, bh), d.Tk, d.D);
      Map<T> O(head<T>(out, bh), d.Tq, d.D);
      T* L = head<T>(lse, bh);
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
            S.row(r) = (S.row(r).array() - mnew).exp();
            l[r] = l[r] * corr + S.row(r).sum();
            acc.row(r) *= corr;
            m[r] = mnew;
          }
          acc.noalias() += S * V.middleRows(j0, nk);
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
  parallel_for(0, d.BH, 1, [&](int64_t lo, int64_t hi) {
    Mat<T> S, dP;
    Eigen::Matrix<T, Eigen::Dynamic, 1> delta;
    for (int64_t bh = lo; bh < hi; ++bh) {
      const CMap<T> Q(head<T>(q, bh), d.Tq, d.D), K(head<T>(k, bh), d.Tk, d.D),
          V(head<T>(v, bh), d.Tk, d.D), O(head<T>(out, bh), d.Tq, d.D),
          dO(head<T>(gout, bh), d.Tq, d.D);
      const T* L = head<T>(lse, bh);
      Map<T> dQ(head<T>(gq, bh), d.Tq, d.D), dK(head<T>(gk, bh), d.Tk, d.D),
          dV(head<T>(gv, bh), d.Tk, d.D);
      dQ.setZero();
      dK.setZero();
      dV.setZero();
      delta = (dO.array() * O.array()).rowwise().sum();
      for (int64_t i0 = 0; i0 < d.Tq; i0 += kBlockQ) {
        const int64_t nq = std::min(kBlockQ, d.Tq - i0), kend = d.shift() + i0 + nq;
        for (int64_t j0 = 0; j0 < kend; j0 += kBlockK) {
          const int64_t nk = std::min(kBlockK, kend - j0);
          masked_scores(Q, K, i0, nq, j0, nk, d.shift(), scale, S);
          for (int64_t r = 0; r < nq; ++r) S.row(r) = (S.row(r).array() - L[i0 + r]).exp();
          dV.middleRows(j0, nk).noalias() += S.transpose() * dO.middleRows(i0, nq);
          dP.noalias() = dO.middleRows(i0, nq) * V.middleRows(j0, nk).transpose();
          for (int64_t r = 0; r < nq; ++r)
            S.row(r) = S.row(r).array() * (dP.row(r).array() - delta[i0 + r]) * scale;
          dQ.middleRows(i0, nq).noalias() += S * K.middleRows(j0, nk);
          dK.middleRows(j0, nk).noalias() += S.transpose() * Q.middleRows(i0, nq);
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
