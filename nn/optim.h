// AdamW (PyTorch semantics, decoupled weight decay applied first), global gradient-norm
// clipping, and learning-rate schedules.
#pragma once
#include "nn/module.h"
#include "tensor/names.h"

namespace mb::nn {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.1;  // on parameters with >= 2 dims only (matrices, tables)
};

class AdamW {
 public:
  AdamW(const std::vector<std::pair<std::string, Tensor*>>& params, AdamWOptions opt = {});
  // One update from the parameters' current .grad (a parameter without one is skipped), the
  // gradients taken times grad_scale (the clipping coefficient; see clip_coefficient):
  //   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
  //   p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
  // One fused pass per parameter (Kernels::adamw).
  void step(double lr, double grad_scale = 1.0);
  int64_t steps() const { return t_; }
  const AdamWOptions& options() const { return opt_; }
  // "m.<name>", "v.<name>" for checkpoints; load_state checks names and shapes
  StateDict state() const;
  void load_state(const StateDict& s, int64_t steps);

 private:
  struct Slot {
    std::string name;
    Tensor* p;
    Tensor m, v;
    bool decay;
  };
  std::vector<Slot> slots_;
  AdamWOptions opt_;
  int64_t t_ = 0;
};

// ‖g‖: the 2-norm of all the parameters' gradients together.
double grad_norm(const std::vector<Tensor*>& params);
// min(1, max_norm / (‖g‖ + 1e-6)): what PyTorch's clip_grad_norm_ scales the gradients by.
double clip_coefficient(double norm, double max_norm);
// Scales every gradient by clip_coefficient(‖g‖, max_norm); returns ‖g‖ before clipping.
// (A training step passes the coefficient to AdamW::step instead: one pass less.)
double clip_grad_norm(const std::vector<Tensor*>& params, double max_norm);

// Learning rate at a step (0-based): linear warmup over `warmup` steps to `lr`, then
// constant, cosine down to min_lr at `total`, or polynomial decay (power 1: linear) to
// min_lr at `total` (the paper's metaseq schedule, with min_lr 0).
struct LrSchedule {
  enum class Kind { constant, cosine, polynomial };
  Kind kind = Kind::cosine;
  double lr = 1e-3, min_lr = 0.0, power = 1.0;
  int64_t warmup = 0, total = 1;
  double at(int64_t step) const;
};

}  // namespace mb::nn

namespace mb {
template <> struct EnumNames<nn::LrSchedule::Kind> {
  static constexpr std::pair<nn::LrSchedule::Kind, const char*> table[] = {
      {nn::LrSchedule::Kind::cosine, "cosine"}, {nn::LrSchedule::Kind::polynomial, "polynomial"},
      {nn::LrSchedule::Kind::constant, "constant"}};
};
}  // namespace mb
