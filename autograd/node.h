// The autograd graph. Every op whose inputs require gradients records a Node on its output:
// which op it was, where each input's gradient goes (the input's own Node, or the leaf tensor
// whose .grad accumulates it), and the op's backward rule as a closure over the values it
// saved. backward() (autograd/engine.cpp) walks the nodes in reverse topological order.
#pragma once
#include <functional>
#include <initializer_list>
#include <vector>

#include "autograd/op_kind.h"
#include "tensor/tensor.h"

namespace mb {

// Where one input's gradient flows: exactly one of fn (an interior tensor) or leaf is set;
// neither when that input does not require gradients.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  bool active() const { return fn || leaf; }
};

// gy (the gradient of the op's output) -> one gradient per input, in input order; an
// undefined tensor means "no gradient" for that input.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& gy)>;

struct Node {
  OpKind op;
  std::vector<Edge> next;
  std::vector<Shape> input_shapes;  // to check what the backward rule returns
  BackwardFn backward;              // released after it runs: the graph is single-use
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node();  // iterative: a long chain of nodes must not recurse once per node
};

// ---- grad mode ----
bool grad_enabled();
// Sets grad mode in its scope and restores it after.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};
// Disables graph recording in its scope (evaluation, optimizer updates, backward rules).
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

// True when grad mode is on and some input requires gradients: only then is a Node worth
// building.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a Node for `op` to `out` (which must be a fresh tensor) if needs_grad(inputs).
// Backward rules capture detached copies of what they need (see save()).
// With MB_DETECT_ANOMALY=1 in the environment, the first op whose output (forward) or whose
// rule's gradients (backward) hold a NaN or an infinity throws an error naming it: slow (a
// reduction per op), for finding where a loss turns NaN.
void record(OpKind op, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn backward);
bool detect_anomaly();  // MB_DETECT_ANOMALY is set to something other than 0

// What a backward rule keeps of a tensor: its data without its history, so that a saved
// output does not keep its own Node alive (no reference cycles).
inline Tensor save(const Tensor& t) { return t.defined() ? t.detach() : t; }

// Called with each node and the gradient of its output just before the node's rule runs, in
// the engine's order: a window into backward for tracing and teaching (examples/learn.cpp).
// None by default; returns the observer it replaces.
using BackwardObserver = std::function<void(const Node& node, const Tensor& gy)>;
BackwardObserver set_backward_observer(BackwardObserver f);

// Called with a leaf once backward() has handed it the last gradient it gets in this pass (its
// .grad is final): data parallelism (nn/distributed.h) starts reducing a bucket of gradients
// while the rest of backward runs. None by default; returns the hook it replaces.
using LeafReadyHook = std::function<void(const TensorImpl& leaf)>;
LeafReadyHook set_leaf_ready_hook(LeafReadyHook f);

// Runs backpropagation from `root`. Without `grad`, root must have one element and the seed
// gradient is 1. Leaves that require gradients accumulate into .grad(); the graph is freed.
void backward(const Tensor& root, const Tensor& grad = Tensor());

}  // namespace mb
