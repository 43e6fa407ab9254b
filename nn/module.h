// Module: a layer with named parameters and named child modules, PyTorch-style. Names are
// dotted paths ("global.blocks.0.attn.qkv.weight") and are the names of the reference
// fixtures and of our checkpoints.
//
// A module registers its parameters (members of type Tensor) and its children in its
// constructor; it is neither copied nor moved afterwards (registration holds pointers).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"

namespace mb::nn {

using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // (dotted name, parameter) of this module and its children, in registration order
  std::vector<std::pair<std::string, Tensor*>> named_parameters();
  std::vector<Tensor*> parameters();
  int64_t num_parameters();

  StateDict state_dict();  // name -> parameter (shares storage)
  // Copies every value into the parameter of that name (converting dtype). Throws, naming
  // the parameter, on a shape mismatch, a missing name, or (strict) a name we do not have.
  void load_state_dict(const StateDict& sd, bool strict = true);

  void to(DType dtype);    // converts every parameter, keeping requires_grad
  void to(Device device);  // moves every parameter, keeping requires_grad
  void zero_grad();      // drops every parameter's .grad
  // f on this module and then on every descendant, in registration order
  void apply(const std::function<void(Module&)>& f);
  void train(bool on = true);
  bool training() const { return training_; }

 protected:
  Tensor& register_parameter(const std::string& name, Tensor& t);
  void register_module(const std::string& name, Module& m);  // "": no prefix

 private:
  struct Entry {  // a parameter or a child module, in registration order
    std::string name;
    Tensor* param;
    Module* child;
  };
  std::vector<Entry> entries_;
  bool training_ = true;
};

// The dropout randomness of one forward pass: each call draws from (seed, offset) and moves
// offset on by the tensor's size, so a step's masks are a function of (seed, step) alone.
struct DropoutStream {
  uint64_t seed = 0;
  uint64_t offset = 0;
  Tensor apply(const Tensor& x, double p);
  // An independent stream for part i (a block, a stack): its masks do not depend on how much
  // the other parts drew, so a recomputed block replays its own exactly.
  DropoutStream fork(uint64_t i) const;
};

// Fills t with N(0, std) from the stream (seed, offset), advancing offset by t.numel().
void normal_(Tensor& t, double std, uint64_t seed, uint64_t& offset);
// N(0, std) truncated to [−k·std, k·std] (Megatron-LM's init, the paper's with k = 2): the
// inverse normal CDF of uniform numbers from the stream, so every value is in range and the
// stream advances by t.numel() as normal_'s does.
void trunc_normal_(Tensor& t, double std, double k, uint64_t seed, uint64_t& offset);
// The standard normal's inverse CDF Φ⁻¹(p) for p in (0, 1), to about 1e-15.
double normal_quantile(double p);

}  // namespace mb::nn
