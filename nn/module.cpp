#include "nn/module.h"

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

void normal_(Tensor& t, double std, uint64_t seed, uint64_t& offset) {
  NoGradGuard no_grad;
  copy_(t, mul_scalar(Tensor::randn(t.shape(), seed, offset, DType::F64), std));
  offset += uint64_t(t.numel());
}

}  // namespace mb::nn
