#include "nn/module.h"

#include <algorithm>
#include <cmath>

#include "tensor/philox.h"

namespace mb::nn {

Tensor& Module::register_parameter(const std::string& name, Tensor& t) {
  t.set_requires_grad(true);
  entries_.push_back({name, &t, nullptr});
  return t;
}

void Module::register_module(const std::string& name, Module& m) { entries_.push_back({name, nullptr, &m}); }

std::vector<std::pair<std::string, Tensor*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (const Entry& e : entries_) {
    if (e.param) {
      out.emplace_back(e.name, e.param);
      continue;
    }
    for (auto& [pname, p] : e.child->named_parameters())
      out.emplace_back(e.name.empty() ? pname : e.name + "." + pname, p);
  }
  return out;
}

void Module::apply(const std::function<void(Module&)>& f) {
  f(*this);
  for (const Entry& e : entries_)
    if (e.child) e.child->apply(f);
}

std::vector<Tensor*> Module::parameters() {
  std::vector<Tensor*> out;
  for (auto& np : named_parameters()) out.push_back(np.second);
  return out;
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (Tensor* p : parameters()) n += p->numel();
  return n;
}

StateDict Module::state_dict() {
  StateDict sd;
  for (auto& [name, p] : named_parameters()) sd[name] = *p;
  return sd;
}

void Module::load_state_dict(const StateDict& sd, bool strict) {
  auto named = named_parameters();
  for (auto& [name, p] : named) {
    auto it = sd.find(name);
    MB_CHECK(it != sd.end(), "load_state_dict: parameter '", name, "' is missing");
    MB_CHECK(it->second.shape() == p->shape(), "load_state_dict: parameter '", name,
             "' has shape ", to_string(it->second.shape()), " in the file but ",
             to_string(p->shape()), " in the model");
    MB_CHECK(is_floating(it->second.dtype()) == is_floating(p->dtype()), "load_state_dict: parameter '", name, "' is ",
             dtype_name(it->second.dtype()), " in the file but ", dtype_name(p->dtype()), " in the model");
    MB_CHECK(all_finite(it->second), "load_state_dict: parameter '", name, "' holds non-finite values (NaN or infinity)");
  }
  if (strict) {
    for (auto& [name, t] : sd) {
      bool known = false;
      for (auto& np : named) known = known || np.first == name;
      MB_CHECK(known, "load_state_dict: the model has no parameter '", name, "'");
    }
  }
  NoGradGuard no_grad;
  for (auto& [name, p] : named) copy_(*p, sd.at(name));
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  for (Tensor* p : parameters()) {
    if (p->dtype() == dtype) continue;
    *p = mb::to(p->detach(), dtype);
    p->set_requires_grad(true);
  }
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (Tensor* p : parameters()) {
    if (p->device() == device) continue;
    *p = mb::to(p->detach(), device);
    p->set_requires_grad(true);
  }
}

void Module::zero_grad() {
  for (Tensor* p : parameters()) p->set_grad(Tensor());
}

void Module::train(bool on) {
  training_ = on;
  for (const Entry& e : entries_)
    if (e.child) e.child->train(on);
}

Tensor DropoutStream::apply(const Tensor& x, double p) {
  const uint64_t at = offset;
  offset += uint64_t(x.numel());
  return dropout(x, p, seed, at, true);
}

DropoutStream DropoutStream::fork(uint64_t i) const {
  const Philox4x32 r = philox(seed ^ 0x9e3779b97f4a7c15ull, i);
  return {uint64_t(r.c[0]) << 32 | r.c[1], 0};
}

double normal_quantile(double p) {
  // Acklam's rational approximation (relative error 1.15e-9), then one Halley step on
  // Φ(x) − p with Φ(x) = erfc(−x/√2)/2, which brings it to double precision
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  MB_CHECK(p > 0 && p < 1, "normal_quantile: p must be in (0, 1), got ", p);
  const double lo = 0.02425;
  double x;
  if (p < lo || p > 1 - lo) {
    const double q = std::sqrt(-2 * std::log(p < lo ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - lo) x = -x;
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

void trunc_normal_(Tensor& t, double std, double k, uint64_t seed, uint64_t& offset) {
  NoGradGuard no_grad;
  MB_CHECK(k > 0, "trunc_normal_: the truncation must be positive, got ", k);
  // x = Φ⁻¹(Φ(−k) + u·(Φ(k) − Φ(−k))) for u uniform in [0, 1)
  const double lo = 0.5 * std::erfc(k / std::sqrt(2.0)), hi = 1 - lo;
  std::vector<double> v = Tensor::rand(t.shape(), seed, offset, DType::F64).to_vector<double>();
  for (double& x : v) x = std * std::clamp(normal_quantile(lo + x * (hi - lo)), -k, k);
  copy_(t, Tensor::from_vector(v, t.shape()));
  offset += uint64_t(t.numel());
}

void normal_(Tensor& t, double std, uint64_t seed, uint64_t& offset) {
  NoGradGuard no_grad;
  copy_(t, mul_scalar(Tensor::randn(t.shape(), seed, offset, DType::F64), std));
  offset += uint64_t(t.numel());
}

}  // namespace mb::nn
