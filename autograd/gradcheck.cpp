#include "autograd/gradcheck.h"

#include <cmath>

namespace mb {

namespace {
double weighted_sum(const Tensor& y, const Tensor& w) { return sum(mul(y, w)).item(); }
}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt) {
  GradcheckResult r;
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) {
    if (t.dtype() != DType::F64) {
      leaves.push_back(t);
      continue;
    }
    Tensor leaf = clone(t.detach());
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor y = f(leaves);
  MB_CHECK(y.dtype() == DType::F64, "gradcheck: f must return f64, got ", dtype_name(y.dtype()));
  const Tensor w = Tensor::randn(y.shape(), 1234, 0, DType::F64);
  if (!y.requires_grad()) {
    r.ok = false;
    r.message = "output does not require grad: the op recorded no graph";
    return r;
  }
  backward(sum(mul(y, w)));

  NoGradGuard no_grad;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].dtype() != DType::F64) continue;
    Tensor& x = leaves[i];
    const Tensor g = x.grad();
    double* xp = x.data<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double keep = xp[j];
      xp[j] = keep + opt.eps;
      const double lp = weighted_sum(f(leaves), w);
      xp[j] = keep - opt.eps;
      const double lm = weighted_sum(f(leaves), w);
      xp[j] = keep;
      const double num = (lp - lm) / (2 * opt.eps);
      const double ana = g.defined() ? contiguous(g).data<double>()[j] : 0.0;
      const double err = std::abs(ana - num);
      if (err > r.max_abs_error) r.max_abs_error = err;
      if (err > opt.atol + opt.rtol * std::abs(num) && r.ok) {
        r.ok = false;
        r.message = cat("input ", i, " element ", j, ": analytic ", ana, " vs numeric ", num,
                        " (error ", err, ")");
      }
    }
  }
  return r;
}

}  // namespace mb
