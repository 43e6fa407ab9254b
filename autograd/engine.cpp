// The backward engine: Kahn's algorithm over the graph below the root. A node runs once every
// node that feeds it a gradient has run, so each node's incoming gradients are summed before
// its rule sees them.
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/backend.h"
#include "tensor/profile.h"

namespace mb {

namespace {
thread_local bool g_grad_enabled = true;
BackwardObserver g_observer;
}  // namespace

BackwardObserver set_backward_observer(BackwardObserver f) {
  std::swap(f, g_observer);
  return f;
}

Node::~Node() {
  // Take over the edges of every node that dies with this one, so the chain unwinds in this
  // loop instead of one nested destructor call per node.
  std::vector<std::shared_ptr<Node>> dying;
  for (Edge& e : next)
    if (e.fn) dying.push_back(std::move(e.fn));
  while (!dying.empty()) {
    std::shared_ptr<Node> n = std::move(dying.back());
    dying.pop_back();
    if (n.use_count() == 1)
      for (Edge& e : n->next)
        if (e.fn) dying.push_back(std::move(e.fn));
  }
}

bool grad_enabled() { return g_grad_enabled; }
GradModeGuard::GradModeGuard(bool enabled) : prev_(g_grad_enabled) { g_grad_enabled = enabled; }
GradModeGuard::~GradModeGuard() { g_grad_enabled = prev_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool detect_anomaly() {
  static const bool on = [] {
    const char* v = std::getenv("MB_DETECT_ANOMALY");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

namespace {
LeafReadyHook g_leaf_ready;
}
LeafReadyHook set_leaf_ready_hook(LeafReadyHook f) {
  std::swap(f, g_leaf_ready);
  return f;
}

void record(OpKind op, const std::vector<Tensor>& inputs, Tensor& out, BackwardFn backward) {
  if (!needs_grad(inputs)) return;
  MB_CHECK(!detect_anomaly() || all_finite(out), "anomaly: ", op_name(op), " produced a non-finite value (NaN or ",
           "infinity) in its output of shape ", to_string(out.shape()), " (MB_DETECT_ANOMALY: the first op that did)");
  auto node = std::make_shared<Node>();
  node->op = op;
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.is_leaf()) e.leaf = t.impl_ptr();
      else e.fn = t.grad_fn();
    }
    node->next.push_back(e);
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
  }
  node->backward = std::move(backward);
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::move(node);
}

namespace {

// A leaf's .grad is always its own contiguous tensor: gradients handed down by a rule may be
// views shared with other inputs (add passes gy to both sides).
void accumulate_leaf(TensorImpl& leaf, const Tensor& g) {
  ProfileScope prof("accumulate leaf grad");
  if (!leaf.grad) {
    Tensor own = Tensor::empty(g.shape(), g.dtype(), g.device());
    kernels(g.device()).copy(g, own);
    leaf.grad = own.impl_ptr();
  } else {
    leaf.grad = add(Tensor(leaf.grad), g).impl_ptr();
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad) {
  MB_CHECK(root.requires_grad(), "backward: the tensor does not require gradients (no input ",
           "of the ops that made it requires them, or it was made under NoGradGuard)");
  Tensor seed = grad;
  if (!seed.defined()) {
    MB_CHECK(root.numel() == 1, "backward: gradient can be implied only for a one-element ",
             "tensor; this one has shape ", to_string(root.shape()), ", pass a gradient");
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  MB_CHECK(seed.shape() == root.shape() && seed.dtype() == root.dtype(),
           "backward: gradient of shape ", to_string(seed.shape()), " ", dtype_name(seed.dtype()),
           " does not match the tensor's ", to_string(root.shape()), " ",
           dtype_name(root.dtype()));
  NoGradGuard no_grad;  // backward rules compute with ordinary ops, untracked
  if (root.is_leaf()) {
    accumulate_leaf(root.impl(), seed);
    if (g_leaf_ready) g_leaf_ready(root.impl());
    return;
  }
  // count, for every node below the root, the edges that feed it a gradient (a node that uses
  // the same input twice, y = u·u, is two edges into u)
  std::unordered_map<Node*, int> deps;
  std::unordered_map<const TensorImpl*, int> leaf_edges;  // gradients still to come, with a hook
  std::vector<std::shared_ptr<Node>> nodes = {root.grad_fn()};  // owns them until the end
  deps[nodes[0].get()] = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node* n = nodes[i].get();
    MB_CHECK(n->backward != nullptr, "backward: the graph of ", op_name(n->op),
             " was already freed by an earlier backward() (build the graph again)");
    for (const Edge& e : n->next) {
      if (e.leaf && g_leaf_ready) ++leaf_edges[e.leaf.get()];
      if (!e.fn) continue;
      if (deps.find(e.fn.get()) == deps.end()) nodes.push_back(e.fn);
      ++deps[e.fn.get()];
    }
  }
  // run each node once all its gradient sources have run; a node no gradient reached still
  // runs (as a no-op) so that its inputs' counts go down
  std::unordered_map<Node*, Tensor> pending = {{nodes[0].get(), seed}};
  std::vector<Node*> ready = {nodes[0].get()};
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    auto it = pending.find(n);
    std::vector<Tensor> gx(n->next.size());
    if (it != pending.end()) {
      if (g_observer) g_observer(*n, it->second);
      ProfileScope prof(op_backward_name(n->op));
      gx = n->backward(it->second);
      pending.erase(it);
      MB_CHECK(gx.size() == n->next.size(), "backward of ", op_name(n->op), " returned ",
               gx.size(), " gradients for ", n->next.size(), " inputs");
      if (detect_anomaly())
        for (size_t i = 0; i < gx.size(); ++i)
          MB_CHECK(!gx[i].defined() || all_finite(gx[i]), "anomaly: the backward of ", op_name(n->op),
                   " produced a non-finite gradient (NaN or infinity) for its input ", i, " of shape ",
                   to_string(gx[i].shape()), " (MB_DETECT_ANOMALY: the first rule that did)");
    }
    n->backward = nullptr;  // frees the saved tensors now, not at the end
    for (size_t i = 0; i < gx.size(); ++i) {
      const Edge& e = n->next[i];
      if (!e.active()) continue;
      if (gx[i].defined())
        MB_CHECK(gx[i].shape() == n->input_shapes[i], "backward of ", op_name(n->op),
                 ": gradient ", i, " has shape ", to_string(gx[i].shape()), ", input has ",
                 to_string(n->input_shapes[i]));
      if (e.leaf) {
        if (gx[i].defined()) accumulate_leaf(*e.leaf, gx[i]);
        if (g_leaf_ready && --leaf_edges[e.leaf.get()] == 0) g_leaf_ready(*e.leaf);
        continue;
      }
      Node* m = e.fn.get();
      if (gx[i].defined()) {
        auto p = pending.find(m);
        if (p == pending.end()) pending.emplace(m, gx[i]);
        else p->second = add(p->second, gx[i]);
      }
      if (--deps[m] == 0) ready.push_back(m);
    }
  }
  for (auto& n : nodes) n->next.clear();  // the graph is single-use
}

}  // namespace mb
