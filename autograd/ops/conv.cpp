// Causal 1-D convolution as an unfold followed by a linear layer: the unfold copies, for every
// position, the K inputs it sees into one row; its gradient folds them back.
#include "autograd/ops/common.h"

namespace mb {
using namespace detail;

Tensor unfold_causal(const Tensor& x, int64_t K) {
  ProfileScope prof("unfold_causal");
  check_defined("unfold_causal", x, "input");
  check_float("unfold_causal", x);
  MB_CHECK(x.dim() == 3 && K >= 1, "unfold_causal: input must be (B, T, C) and K >= 1, got ", describe(x), ", K ", K);
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  Tensor cols = Tensor::empty({B, T, C * K}, x.dtype(), x.device());
  kernels(x.device()).unfold_causal(contiguous_raw(x), K, cols);
  record(OpKind::unfold_causal, {x}, cols, [K, B, T, C](const Tensor& g) {
    Tensor gx = Tensor::empty({B, T, C}, g.dtype(), g.device());
    kernels(g.device()).fold_causal(contiguous_raw(g), K, gx);
    return std::vector<Tensor>{gx};
  });
  return cols;
}

Tensor conv1d_causal(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_defined("conv1d_causal", w, "weight");
  MB_CHECK(x.dim() == 3 && w.dim() == 3 && w.size(1) == x.size(2), "conv1d_causal: input ", describe(x),
           " (B, T, C_in) does not match weight ", describe(w), " (C_out, C_in, K)");
  // y = unfold(x) · W2ᵀ + b with W2 = w as (C_out, C_in·K): column c·K + k of a row holds
  // input channel c at offset k, as w[:, c, k] expects
  return linear(unfold_causal(x, w.size(2)), reshape(w, {w.size(0), w.size(1) * w.size(2)}), b);
}

}  // namespace mb
