#include "nn/optim.h"

#include <cmath>
#include <map>

#include "tensor/backend.h"
#include "tensor/profile.h"

namespace mb::nn {

AdamW::AdamW(const std::vector<std::pair<std::string, Tensor*>>& params, AdamWOptions opt) : opt_(opt) {
  for (const auto& [name, p] : params)
    slots_.push_back({name, p, Tensor::zeros(p->shape(), p->dtype(), p->device()),
                      Tensor::zeros(p->shape(), p->dtype(), p->device()), p->dim() >= 2});
}

void AdamW::step(double lr, double grad_scale) {
  ProfileScope prof("adamw");
  NoGradGuard no_grad;
  ++t_;
  const AdamWStep st{lr, opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay, 1 - std::pow(opt_.beta1, double(t_)),
                     std::sqrt(1 - std::pow(opt_.beta2, double(t_))), grad_scale};
  std::map<std::pair<Device, DType>, std::vector<AdamWTensors>> groups;  // one kernel call each
  for (Slot& s : slots_) {
    const Tensor g = s.p->grad();
    if (!g.defined()) continue;
    MB_CHECK(g.shape() == s.p->shape() && g.dtype() == s.p->dtype(), "AdamW: the gradient of '", s.name,
             "' is ", to_string(g.shape()), " ", dtype_name(g.dtype()), ", the parameter ",
             to_string(s.p->shape()), " ", dtype_name(s.p->dtype()));
    groups[{s.p->device(), s.p->dtype()}].push_back({*s.p, contiguous(g), s.m, s.v, s.decay});
  }
  for (const auto& [key, ts] : groups) kernels(key.first).adamw(ts, st);
}

StateDict AdamW::state() const {
  StateDict sd;
  for (const Slot& s : slots_) {
    sd["m." + s.name] = s.m;
    sd["v." + s.name] = s.v;
  }
  return sd;
}

void AdamW::load_state(const StateDict& sd, int64_t steps) {
  NoGradGuard no_grad;
  for (Slot& s : slots_) {
    for (auto [key, dst] : {std::pair{"m." + s.name, &s.m}, std::pair{"v." + s.name, &s.v}}) {
      auto it = sd.find(key);
      MB_CHECK(it != sd.end(), "optimizer state: '", key, "' is missing");
      MB_CHECK(it->second.shape() == dst->shape(), "optimizer state: '", key, "' has shape ",
               to_string(it->second.shape()), ", expected ", to_string(dst->shape()));
      MB_CHECK(is_floating(it->second.dtype()) && all_finite(it->second), "optimizer state: '", key,
               "' is not a tensor of finite floating-point values");
      copy_(*dst, it->second);
    }
  }
  t_ = steps;
}

double grad_norm(const std::vector<Tensor*>& params) {
  ProfileScope prof("grad_norm");
  std::map<std::pair<Device, DType>, std::vector<Tensor>> groups;  // one kernel call (one sync) each
  for (Tensor* p : params)
    if (p->grad().defined()) groups[{p->grad().device(), p->grad().dtype()}].push_back(contiguous(p->grad()));
  double sq = 0;
  for (const auto& [key, gs] : groups) sq += kernels(key.first).sum_squares(gs);
  return std::sqrt(sq);
}

double clip_coefficient(double norm, double max_norm) { return std::min(1.0, max_norm / (norm + 1e-6)); }

double clip_grad_norm(const std::vector<Tensor*>& params, double max_norm) {
  NoGradGuard no_grad;
  const double norm = grad_norm(params), coef = clip_coefficient(norm, max_norm);
  for (Tensor* p : params)
    if (p->grad().defined()) copy_(p->grad(), mul_scalar(p->grad(), coef));
  return norm;
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup) return lr * double(step + 1) / double(warmup);
  if (kind == Kind::constant) return lr;
  const double span = double(std::max<int64_t>(1, total - warmup));
  const double progress = std::min(1.0, double(step - warmup) / span);
  if (kind == Kind::cosine) return min_lr + (lr - min_lr) * 0.5 * (1 + std::cos(M_PI * progress));
  return min_lr + (lr - min_lr) * std::pow(1 - progress, power);
}

}  // namespace mb::nn
