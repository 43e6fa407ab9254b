// Finite-difference check of gradients, in float64. For f: inputs -> tensor, it compares the
// gradient of L = Σ f(x) ∘ w (w fixed random) from backward() with the central difference
// (L(x + ε e_j) - L(x - ε e_j)) / 2ε for every element j of every floating input.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"

namespace mb {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // over all checked elements
  std::string message;       // the worst element, or what went wrong
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// inputs: f64 tensors are checked (and made leaves requiring grad); others (indices) are
// passed through unchanged.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt = {});

}  // namespace mb
