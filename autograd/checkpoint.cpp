#include "autograd/checkpoint.h"

#include "tensor/profile.h"

namespace mb {

Tensor checkpoint(const CheckpointFn& f, const std::vector<Tensor>& inputs) {
  Tensor y;
  {
    NoGradGuard no_grad;  // the forward keeps nothing
    std::vector<Tensor> plain;
    for (const Tensor& t : inputs) plain.push_back(save(t));
    y = f(plain);
  }
  if (!needs_grad(inputs)) return y;
  std::vector<Tensor> saved;
  for (const Tensor& t : inputs) saved.push_back(save(t));
  record(OpKind::checkpoint, inputs, y, [f, saved, wants = [&] {
           std::vector<bool> w;
           for (const Tensor& t : inputs) w.push_back(t.defined() && t.requires_grad());
           return w;
         }()](const Tensor& gy) {
    ProfileScope prof("checkpoint recompute");
    GradModeGuard grad_on(true);
    std::vector<Tensor> leaves;
    for (size_t i = 0; i < saved.size(); ++i) {
      Tensor l = saved[i].defined() ? saved[i].detach() : saved[i];
      if (wants[i]) l.set_requires_grad(true);
      leaves.push_back(l);
    }
    const Tensor y2 = f(leaves);
    MB_CHECK(y2.requires_grad(), "checkpoint: the recomputed output does not depend on anything that needs a gradient");
    backward(y2, gy);
    std::vector<Tensor> g;
    for (size_t i = 0; i < leaves.size(); ++i) g.push_back(wants[i] ? leaves[i].grad() : Tensor());
    return g;
  });
  return y;
}

}  // namespace mb
