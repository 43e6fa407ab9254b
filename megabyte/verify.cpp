#include "megabyte/verify.h"

#include <cmath>
#include <cstdlib>

#include "megabyte/model.h"
#include "nn/optim.h"
#include "nn/safetensors.h"

namespace mb {

namespace {

struct Tolerances {
  double logits, loss, grad, train_loss, train_final;
};
Tolerances tolerances(DType d) {
  if (d == DType::F64) return {1e-9, 1e-10, 1e-8, 1e-9, 1e-9};
  return {1e-4, 1e-5, 1e-4, 1e-4, -1};  // train.final not compared in f32
}

double max_abs(const Tensor& t) {
  return t.numel() ? max(abs(to(t, DType::F64))).item() : 0.0;
}
double max_abs_diff(const Tensor& a, const Tensor& b) {
  MB_CHECK(a.shape() == b.shape(), "verify: computed ", to_string(a.shape()), " vs fixture ", to_string(b.shape()));
  return max_abs(sub(to(to(a, Device::CPU), DType::F64), to(b, DType::F64)));
}

const Tensor& need(const nn::SafeTensors& st, const std::string& name, const std::string& path) {
  auto it = st.tensors.find(name);
  MB_CHECK(it != st.tensors.end(), path, ": the fixture has no tensor '", name, "'");
  return it->second;
}

// An optimizer setting of the fixture's metadata: a finite number, `fallback` when absent.
double meta_number(const nn::SafeTensors& st, const std::string& key, double fallback, const std::string& path) {
  auto it = st.metadata.find(key);
  if (it == st.metadata.end()) return fallback;
  double v = 0;
  parse_field(path + ": '" + key + "'", it->second, v);
  MB_CHECK(std::isfinite(v), path, ": '", key, "' = ", it->second, " is not finite");
  return v;
}

}  // namespace

bool VerifyReport::ok() const {
  for (const VerifyCheck& c : checks)
    if (!c.ok()) return false;
  return !checks.empty();
}

VerifyReport verify_fixture(const std::string& path, DType dtype, Device device) {
  MB_CHECK(dtype == DType::F64 || dtype == DType::F32, "verify: --dtype must be f64 or f32");
  const nn::SafeTensors st = nn::load_safetensors(path);
  const Config cfg = Config::from_metadata(st.metadata);
  const Tolerances tol = tolerances(dtype);
  VerifyReport rep;
  rep.summary = cfg.summary();

  std::unique_ptr<ByteModel> model = make_model(cfg);
  model->to(dtype);
  nn::StateDict init;
  for (auto& [name, p] : model->named_parameters()) init[name] = need(st, name, path);
  model->load_state_dict(init);
  model->to(device);
  const Tensor x = to(need(st, "input", path), device);

  // forward + backward
  const Tensor logits = model->forward(x);
  const Tensor loss = cross_entropy(logits, x);
  backward(loss);
  rep.checks.push_back({"logits", "max abs", max_abs_diff(logits, need(st, "logits", path)), tol.logits});
  rep.checks.push_back({"loss", "abs", max_abs_diff(loss, need(st, "loss", path)), tol.loss});
  for (auto& [name, p] : model->named_parameters()) {
    const Tensor& ref = need(st, "grad." + name, path);
    MB_CHECK(p->grad().defined(), "verify: parameter '", name, "' received no gradient");
    rep.checks.push_back({"grad." + name, "rel", max_abs_diff(p->grad(), ref) / std::max(max_abs(ref), 1e-300), tol.grad});
  }

  // the AdamW trajectory, from the initial weights again
  auto traj = st.tensors.find("train.loss");
  if (traj == st.tensors.end()) return rep;
  model->load_state_dict(init);
  model->zero_grad();
  nn::AdamWOptions opt;
  opt.eps = meta_number(st, "eps", 1e-8, path);
  opt.weight_decay = meta_number(st, "weight_decay", 0.1, path);
  const std::string betas = st.metadata.count("betas") ? st.metadata.at("betas") : "0.9,0.95";
  const size_t comma = betas.find(',');
  MB_CHECK(comma != std::string::npos, path, ": 'betas' = '", betas, "' is not two numbers 'beta1,beta2'");
  parse_field(path + ": 'betas'", betas.substr(0, comma), opt.beta1);
  parse_field(path + ": 'betas'", betas.substr(comma + 1), opt.beta2);
  const double lr = meta_number(st, "lr", 1e-3, path), clip = meta_number(st, "clip", 1.0, path);
  nn::AdamW adamw(model->named_parameters(), opt);
  const int64_t steps = traj->second.numel();
  MB_CHECK(steps <= 1000, path, ": train.loss holds ", steps, " steps; a fixture's trajectory is a few (at most 1000)");
  std::vector<double> losses;
  for (int64_t t = 0; t < steps; ++t) {
    model->zero_grad();
    const Tensor l = model->loss(x);
    losses.push_back(l.item());
    backward(l);
    nn::clip_grad_norm(model->parameters(), clip);
    adamw.step(lr);
  }
  rep.checks.push_back({"train.loss", "max abs", max_abs_diff(Tensor::from_vector(losses, {steps}), traj->second), tol.train_loss});
  if (tol.train_final < 0) return rep;
  double worst = 0;
  for (auto& [name, p] : model->named_parameters())
    worst = std::max(worst, max_abs_diff(*p, need(st, "train.final." + name, path)));
  rep.checks.push_back({"train.final (all parameters)", "max abs", worst, tol.train_final});
  return rep;
}

}  // namespace mb
