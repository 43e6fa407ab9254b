#include "nn/optim.h"

#include <cmath>

namespace mb::nn {

AdamW::AdamW(const std::vector<std::pair<std::string, Tensor*>>& params, AdamWOptions opt) : opt_(opt) {
  for (const auto& [name, p] : params)
    slots_.push_back({name, p, Tensor::zeros(p->shape(), p->dtype(), p->device()),
                      Tensor::zeros(p->shape(), p->dtype(), p->device()), p->dim() >= 2});
}

void AdamW::step(double lr) {
  NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1 - std::pow(opt_.beta1, double(t_));
  const double bc2_sqrt = std::sqrt(1 - std::pow(opt_.beta2, double(t_)));
  for (Slot& s : slots_) {
    const Tensor g = s.p->grad();
    if (!g.defined()) continue;
    Tensor& p = *s.p;
    if (s.decay && opt_.weight_decay != 0) copy_(p, mul_scalar(p, 1 - lr * opt_.weight_decay));
    copy_(s.m, add(s.m, mul_scalar(sub(g, s.m), 1 - opt_.beta1)));  // lerp, as PyTorch
    copy_(s.v, add(mul_scalar(s.v, opt_.beta2), mul_scalar(mul(g, g), 1 - opt_.beta2)));
    const Tensor denom = add_scalar(mul_scalar(sqrt(s.v), 1 / bc2_sqrt), opt_.eps);
    copy_(p, sub(p, mul_scalar(div(s.m, denom), lr / bc1)));
  }
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
      copy_(*dst, it->second);
    }
  }
  t_ = steps;
}

double clip_grad_norm(const std::vector<Tensor*>& params, double max_norm) {
  NoGradGuard no_grad;
  double sq = 0;
  for (Tensor* p : params)
    if (p->grad().defined()) sq += sum(square(to(p->grad(), DType::F64))).item();
  const double norm = std::sqrt(sq);
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
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

LrSchedule::Kind schedule_from_name(const std::string& s) {
  if (s == "constant") return LrSchedule::Kind::constant;
  if (s == "cosine") return LrSchedule::Kind::cosine;
  if (s == "polynomial") return LrSchedule::Kind::polynomial;
  throw Error("unknown schedule '" + s + "' (expected constant, cosine or polynomial)");
}

const char* schedule_name(LrSchedule::Kind k) {
  return k == LrSchedule::Kind::constant ? "constant" : k == LrSchedule::Kind::cosine ? "cosine" : "polynomial";
}

}  // namespace mb::nn
