// Gradcheck of every differentiable op (MB_DIFFERENTIABLE_OPS in autograd/ops.h), in float64,
// each on contiguous inputs and again on non-contiguous (transposed or stepped) and broadcast
// (stride-0) inputs. An op of the list without a GRADCHECK case below fails the coverage test
// at the end, and so does a kind of graph node (autograd/op_kind.h) that no case builds.
//
// The gpu tests compile this file again with MB_TEST_CUDA: every case then runs on the GPU
// (inputs moved there, the output moved back), is gradchecked there in float64, and its
// float32 output and gradients are compared with the CPU's (the oracle).
#include <map>
#include <set>

#include "autograd/checkpoint.h"
#include "autograd/gradcheck.h"
#include "helpers.h"

using namespace mb;
using namespace mb::test;

namespace {

// op name -> its gradcheck case
std::map<std::string, void (*)()>& registry() {
  static std::map<std::string, void (*)()> cases;
  return cases;
}
bool register_case(const char* op, void (*run)()) { return registry().emplace(op, run).second; }

// With g_collecting, expect_grad only builds each case's graph and notes the kinds of its nodes.
bool g_collecting = false;
std::set<OpKind> g_node_kinds;
void collect_node_kinds(const Tensor& y) {
  std::vector<const Node*> todo = {y.grad_fn().get()};
  std::set<const Node*> seen;
  while (!todo.empty()) {
    const Node* n = todo.back();
    todo.pop_back();
    if (!n || !seen.insert(n).second) continue;
    g_node_kinds.insert(n->op);
    for (const Edge& e : n->next) todo.push_back(e.fn.get());
  }
}

enum Variants { kPlain = 1, kStrided = 2, kBroadcast = 4, kAll = 7 };

using Inputs = std::vector<Tensor>;

#ifdef MB_TEST_CUDA
constexpr Device kDevice = Device::CUDA;
#else
constexpr Device kDevice = Device::CPU;
#endif
Device g_device = kDevice;  // where the cases run now
DType g_dtype = DType::F64;  // the floating dtype of their inputs now

// A constant a case uses beside its inputs (indices, masks), where and as the inputs are.
Tensor dev(const Tensor& t) { return to(is_floating(t.dtype()) ? to(t, g_dtype) : t, g_device); }

// f run on g_device: its inputs moved there, its output moved back.
GradcheckFn on_device(const GradcheckFn& f) {
  if (g_device == Device::CPU) return f;
  return [f](const Inputs& in) {
    Inputs moved;
    for (const Tensor& x : in) moved.push_back(to(x, g_device));
    return to(f(moved), Device::CPU);
  };
}

#ifdef MB_TEST_CUDA
// f's f32 output and input gradients (of Σ y∘w, w fixed) computed on device d.
struct F32Run {
  Tensor y;
  Inputs grads;
};
F32Run run_f32(const GradcheckFn& f, const Inputs& inputs, Device d) {
  g_device = d;
  g_dtype = DType::F32;
  Inputs leaves;
  for (const Tensor& x : inputs) {
    Tensor l = x.dtype() == DType::F64 ? to(x, DType::F32).detach() : x;
    if (l.dtype() == DType::F32) l.set_requires_grad();
    leaves.push_back(l);
  }
  F32Run r{on_device(f)(leaves), {}};
  if (r.y.requires_grad()) backward(sum(mul(r.y, to(Tensor::randn(r.y.shape(), 99, 0, DType::F64), r.y.dtype()))));
  for (const Tensor& l : leaves) r.grads.push_back(l.requires_grad() ? l.grad() : Tensor());
  g_device = kDevice;
  g_dtype = DType::F64;
  return r;
}

void check_close(const char* what, const Tensor& cpu, const Tensor& gpu) {
  INFO(what);
  REQUIRE(cpu.defined() == gpu.defined());
  if (!cpu.defined()) return;
  REQUIRE(cpu.shape() == gpu.shape());
  const std::vector<double> a = to(cpu, DType::F64).to_vector<double>(), b = to(gpu, DType::F64).to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element ", i, ": CPU ", a[i], ", CUDA ", b[i]);
    CHECK(std::abs(a[i] - b[i]) <= 1e-4 + 1e-3 * std::abs(a[i]));
  }
}

// The CPU is the oracle: the same case in f32 on both devices agrees within f32 tolerance.
void compare_with_cpu(const char* variant, const GradcheckFn& f, const Inputs& inputs) {
  INFO(variant, ": CUDA vs CPU in f32");
  const F32Run c = run_f32(f, inputs, Device::CPU), g = run_f32(f, inputs, Device::CUDA);
  check_close("output", c.y, g.y);
  for (size_t i = 0; i < c.grads.size(); ++i) check_close(cat("gradient of input ", i).c_str(), c.grads[i], g.grads[i]);
}
#endif

// The input a variant feeds to f, made from a leaf of another shape: `leaf` is what gradcheck
// perturbs, `view(leaf)` has x's shape and values.
struct Reshaped {
  Tensor leaf;
  std::function<Tensor(const Tensor&)> view;
};

// Same values, non-contiguous: the transpose of a transposed copy, or every other element.
Reshaped strided(const Tensor& x) {
  if (x.dim() >= 2)
    return {contiguous(transpose(x, -1, -2)), [](const Tensor& l) { return transpose(l, -1, -2); }};
  if (x.dim() == 1)
    return {concat({unsqueeze(x, 1), unsqueeze(x, 1)}, 1), [](const Tensor& l) { return select(l, 1, 0); }};
  return {x, [](const Tensor& l) { return l; }};
}

// A stride-0 view: the first axis longer than 1 is broadcast from x's first slice along it.
Reshaped broadcast(const Tensor& x) {
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.size(d) == 1) continue;
    const Shape shape = x.shape();
    return {contiguous(narrow(x, d, 0, 1)), [shape](const Tensor& l) { return expand(l, shape); }};
  }
  return {x, [](const Tensor& l) { return l; }};
}

void run(const char* variant, const GradcheckFn& f, const Inputs& inputs, const GradcheckOptions& opt) {
  const GradcheckResult r = gradcheck(on_device(f), inputs, opt);
  INFO(std::string(variant), ": ", r.message);
  CHECK(r.ok);
#ifdef MB_TEST_CUDA
  compare_with_cpu(variant, f, inputs);
#endif
}

void run_reshaped(const char* variant, Reshaped (*make)(const Tensor&), const GradcheckFn& f,
                  const Inputs& inputs, const GradcheckOptions& opt) {
  std::vector<Reshaped> rs;
  Inputs leaves;
  for (const Tensor& x : inputs) {
    rs.push_back(x.dtype() == DType::F64 ? make(x) : Reshaped{x, [](const Tensor& l) { return l; }});
    leaves.push_back(rs.back().leaf);
  }
  run(variant, [&](const Inputs& in) {
    Inputs views;
    for (size_t i = 0; i < in.size(); ++i) views.push_back(rs[i].view(in[i]));
    return f(views);
  }, leaves, opt);
}

// Gradcheck of f at `inputs` and, as asked, at non-contiguous and broadcast versions of them.
void expect_grad(const GradcheckFn& f, const Inputs& inputs, int variants = kAll,
                 const GradcheckOptions& opt = {}) {
  if (g_collecting) {
    Inputs leaves;
    for (const Tensor& x : inputs) {
      leaves.push_back(x.detach());
      if (is_floating(x.dtype())) leaves.back().set_requires_grad();
    }
    collect_node_kinds(f(leaves));
    return;
  }
  if (variants & kPlain) run("contiguous inputs", f, inputs, opt);
  if (variants & kStrided) run_reshaped("non-contiguous inputs", strided, f, inputs, opt);
  if (variants & kBroadcast) run_reshaped("broadcast inputs", broadcast, f, inputs, opt);
}

Tensor randn(const Shape& s, uint64_t seed) { return Tensor::randn(s, seed, 0, DType::F64); }
// values in [0.5, 2): inside the domain of log, sqrt, pow, division
Tensor positive(const Shape& s, uint64_t seed) {
  return add_scalar(mul_scalar(Tensor::rand(s, seed, 0, DType::F64), 1.5), 0.5);
}

}  // namespace

// GRADCHECK(op) { ... }: the gradcheck case of an op of the list, and its doctest test case.
#define GRADCHECK(op)                                                      \
  static void gradcheck_##op();                                            \
  static const bool registered_##op = register_case(#op, gradcheck_##op);  \
  TEST_CASE("gradcheck " #op) {                                            \
    CHECK(registered_##op);                                                \
    gradcheck_##op();                                                      \
  }                                                                        \
  static void gradcheck_##op()

// ---------------------------------------------------------------- elementwise

// Every unary and scalar op, at positive inputs and (where the domain allows) at mixed signs.
static bool positive_domain(UnaryOp op) {
  return op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::rsqrt ||
         op == UnaryOp::pow_scalar || op == UnaryOp::rdiv_scalar;
}
#define MB_UNARY_CASE(name, ...)                                                    \
  GRADCHECK(name) {                                                                 \
    const GradcheckFn f = [](const Inputs& in) { return name(in[0]); };             \
    expect_grad(f, {positive({3, 4}, 1)});                                          \
    if (!positive_domain(UnaryOp::name)) expect_grad(f, {randn({3, 4}, 2)});         \
  }
#define MB_SCALAR_CASE(name, ...)                                                   \
  GRADCHECK(name) {                                                                 \
    const GradcheckFn f = [](const Inputs& in) { return name(in[0], 0.7); };        \
    expect_grad(f, {positive({3, 4}, 1)});                                          \
    if (!positive_domain(UnaryOp::name)) expect_grad(f, {randn({3, 4}, 2)});         \
  }
MB_UNARY_OPS(MB_UNARY_CASE)
MB_SCALAR_OPS(MB_SCALAR_CASE)

// Every binary op, same shapes and broadcast both ways.
#define MB_BINARY_CASE(name, ...)                                                   \
  GRADCHECK(name) {                                                                 \
    const GradcheckFn f = [](const Inputs& in) { return name(in[0], in[1]); };      \
    expect_grad(f, {positive({3, 4}, 1), positive({3, 4}, 2)});                     \
    expect_grad(f, {positive({3, 4}, 3), positive({4}, 4)});                        \
    expect_grad(f, {positive({3, 1}, 5), positive({2, 1, 4}, 6)});                  \
  }
MB_BINARY_OPS(MB_BINARY_CASE)

GRADCHECK(where) {
  const Tensor cond = gt(randn({3, 4}, 1), Tensor::zeros({}, DType::F64));
  expect_grad([cond](const Inputs& in) { return where(dev(cond), in[0], in[1]); },
              {randn({3, 4}, 2), randn({4}, 3)});
}

GRADCHECK(masked_fill) {
  const Tensor mask = gt(randn({3, 4}, 1), Tensor::zeros({}, DType::F64));
  expect_grad([mask](const Inputs& in) { return masked_fill(in[0], dev(mask), -2.0); }, {randn({3, 4}, 2)});
}

GRADCHECK(dropout) {
  expect_grad([](const Inputs& in) { return dropout(in[0], 0.3, 5, 0); }, {randn({4, 5}, 1)});
}

// ---------------------------------------------------------------- views and copies

GRADCHECK(reshape) {
  expect_grad([](const Inputs& in) { return reshape(in[0], {4, -1}); }, {randn({3, 4}, 1)});
}
GRADCHECK(permute) {
  expect_grad([](const Inputs& in) { return permute(in[0], {2, 0, 1}); }, {randn({2, 3, 4}, 1)});
}
GRADCHECK(slice) {
  expect_grad([](const Inputs& in) { return slice(in[0], 0, 1, 5, 2); }, {randn({5, 4}, 1)});
  expect_grad([](const Inputs& in) { return slice(in[0], -1, -3, 4); }, {randn({5, 4}, 2)});
}
GRADCHECK(narrow) {
  expect_grad([](const Inputs& in) { return narrow(in[0], 1, 1, 2); }, {randn({3, 4}, 1)});
}
GRADCHECK(expand) {
  expect_grad([](const Inputs& in) { return expand(in[0], {3, 4}); }, {randn({3, 1}, 1)});
  expect_grad([](const Inputs& in) { return expand(in[0], {2, 3, 4}); }, {randn({4}, 2)});
}
GRADCHECK(contiguous) {
  expect_grad([](const Inputs& in) { return contiguous(transpose(in[0], 0, 1)); }, {randn({3, 4}, 1)});
}
GRADCHECK(clone) {
  expect_grad([](const Inputs& in) { return clone(in[0]); }, {randn({3, 4}, 2)});
}
GRADCHECK(to) {
  // through f32 and back: the finite difference must step well above f32 resolution
  expect_grad([](const Inputs& in) { return to(to(in[0], DType::F32), DType::F64); },
              {randn({3, 4}, 1)}, kAll, {1e-2, 1e-4, 1e-4});
}
GRADCHECK(transpose) {
  expect_grad([](const Inputs& in) { return transpose(in[0], 0, 2); }, {randn({2, 3, 4}, 1)});
}
GRADCHECK(unsqueeze) {
  expect_grad([](const Inputs& in) { return unsqueeze(in[0], 1) * dev(randn({3, 2, 4}, 9)); }, {randn({3, 4}, 1)});
}
GRADCHECK(squeeze) {
  expect_grad([](const Inputs& in) { return squeeze(in[0], 1); }, {randn({3, 1, 4}, 1)});
}
GRADCHECK(select) {
  expect_grad([](const Inputs& in) { return select(in[0], 1, -1); }, {randn({3, 4, 2}, 1)});
}
GRADCHECK(split) {
  expect_grad([](const Inputs& in) {
    const auto p = split(in[0], {1, 2, 2}, 1);
    return concat({p[2] * 2.0, p[0], p[1] * 3.0}, 1);
  }, {randn({3, 5}, 1)});
}
GRADCHECK(concat) {
  expect_grad([](const Inputs& in) { return concat({in[0], in[1], in[0]}, 1); },
              {randn({2, 3}, 1), randn({2, 2}, 2)});
  expect_grad([](const Inputs& in) { return concat({in[0], in[1]}, 0); },
              {randn({2, 3}, 3), randn({1, 3}, 4)});
}

// ---------------------------------------------------------------- reductions

GRADCHECK(sum) {
  expect_grad([](const Inputs& in) { return sum(in[0], {0, 2}, true); }, {randn({3, 4, 2}, 1)});
  expect_grad([](const Inputs& in) { return sum(in[0]); }, {randn({3, 4}, 2)});
}
GRADCHECK(sum_to) {
  // the inverse of a broadcast: leading dims dropped, size-1 dims kept
  expect_grad([](const Inputs& in) { return sum_to(in[0], {3, 1}); }, {randn({2, 3, 4}, 1)});
}
GRADCHECK(mean) {
  expect_grad([](const Inputs& in) { return mean(in[0], {1}); }, {randn({3, 4, 2}, 1)});
}
GRADCHECK(max) {
  expect_grad([](const Inputs& in) { return max(in[0], {1}); }, {randn({3, 4, 2}, 1)});
  expect_grad([](const Inputs& in) { return max(in[0]); }, {randn({3, 4}, 2)});
}
GRADCHECK(var) {
  expect_grad([](const Inputs& in) { return var(in[0], {0}); }, {randn({5, 3}, 1)});
  expect_grad([](const Inputs& in) { return var(in[0], {}, true, 0); }, {randn({3, 4}, 2)}, kPlain | kStrided);
}

// ---------------------------------------------------------------- linear algebra and fused

GRADCHECK(matmul) {
  const GradcheckFn f = [](const Inputs& in) { return matmul(in[0], in[1]); };
  expect_grad(f, {randn({3, 4}, 1), randn({4, 2}, 2)});
  expect_grad(f, {randn({2, 3, 4}, 3), randn({4, 5}, 4)});        // Linear-style
  expect_grad(f, {randn({3, 4}, 5), randn({2, 4, 2}, 6)});        // batch broadcast
  expect_grad(f, {randn({2, 1, 3, 4}, 7), randn({3, 4, 2}, 8)});  // 4-D x 3-D
  expect_grad(f, {randn({4}, 9), randn({4, 3}, 10)});             // vector @ matrix
  expect_grad(f, {randn({2, 3, 4}, 11), randn({4}, 12)});         // matrix @ vector
}
GRADCHECK(linear) {
  const GradcheckFn f = [](const Inputs& in) { return linear(in[0], in[1], in[2]); };
  expect_grad(f, {randn({2, 3, 4}, 1), randn({5, 4}, 2), randn({5}, 3)});
  expect_grad([](const Inputs& in) { return linear(in[0], in[1]); }, {randn({3, 4}, 4), randn({2, 4}, 5)});
}
// (values away from the kink: finite differences across max(·, 0) at 0 are not a derivative)
GRADCHECK(linear_relu) {
  const Inputs in = {randn({2, 3, 4}, 1), randn({5, 4}, 2), randn({5}, 3)};
  const Tensor pre = linear(in[0], in[1], in[2]);
  CHECK(max_abs_diff(linear_relu(in[0], in[1], in[2]), relu(pre)) < 1e-12);
  double smallest = INFINITY;
  for (double e : pre.to_vector<double>()) smallest = std::min(smallest, std::abs(e));
  CHECK(smallest > 1e-3);
  expect_grad([](const Inputs& v) { return linear_relu(v[0], v[1], v[2]); }, in);
  expect_grad([](const Inputs& v) { return linear_relu(v[0], v[1]); }, {randn({3, 4}, 4), randn({2, 4}, 5)});
}
GRADCHECK(unfold_causal) {
  expect_grad([](const Inputs& in) { return unfold_causal(in[0], 3); }, {randn({2, 5, 2}, 1)});
}
GRADCHECK(conv1d_causal) {
  const GradcheckFn f = [](const Inputs& in) { return conv1d_causal(in[0], in[1], in[2]); };
  expect_grad(f, {randn({2, 6, 3}, 1), randn({4, 3, 3}, 2), randn({4}, 3)});
  expect_grad([](const Inputs& in) { return conv1d_causal(in[0], in[1]); }, {randn({1, 5, 2}, 4), randn({2, 2, 7}, 5)},
              kPlain | kStrided);  // a kernel longer than the sequence
}
GRADCHECK(softmax) {
  expect_grad([](const Inputs& in) { return softmax(in[0]); }, {randn({3, 5}, 1)});
  expect_grad([](const Inputs& in) { return softmax(in[0], 0); }, {randn({3, 5}, 2)});
}
GRADCHECK(log_softmax) {
  expect_grad([](const Inputs& in) { return log_softmax(in[0]); }, {randn({3, 5}, 1)});
  expect_grad([](const Inputs& in) { return log_softmax(in[0], 1); }, {randn({2, 3, 4}, 2)});
}
GRADCHECK(layer_norm) {
  const GradcheckFn f = [](const Inputs& in) { return layer_norm(in[0], in[1], in[2]); };
  // broadcast would make a row constant (zero variance): plain and strided only
  expect_grad(f, {randn({2, 3, 6}, 1), add_scalar(randn({6}, 2), 1.0), randn({6}, 3)}, kPlain | kStrided);
  expect_grad([](const Inputs& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {randn({4, 5}, 4)},
              kPlain | kStrided);
}
GRADCHECK(embedding) {
  const Tensor idx = Tensor::from_vector<int64_t>({0, 3, 3, 1, 4, 0}, {2, 3});
  expect_grad([idx](const Inputs& in) { return embedding(in[0], dev(idx)); }, {randn({5, 3}, 1)});
  const Tensor bytes = Tensor::from_vector<uint8_t>({2, 2, 0}, {3});
  expect_grad([bytes](const Inputs& in) { return embedding(in[0], dev(bytes)); }, {randn({3, 4}, 2)});
}
GRADCHECK(scatter_add_rows) {
  // rows 1 and 4 gather two sources each, rows 0 and 2 none
  const Tensor idx = Tensor::from_vector<int64_t>({4, 1, 3, 1, 4}, {5});
  expect_grad([idx](const Inputs& in) { return scatter_add_rows(in[0], dev(idx), 6); }, {randn({5, 3}, 1)});
}
GRADCHECK(attention) {
  const GradcheckFn f = [](const Inputs& in) { return attention(in[0], in[1], in[2]); };
  expect_grad(f, {randn({2, 2, 5, 3}, 1), randn({2, 2, 5, 3}, 2), randn({2, 2, 5, 3}, 3)});
  // queries against a longer history
  expect_grad(f, {randn({1, 2, 2, 3}, 4), randn({1, 2, 6, 3}, 5), randn({1, 2, 6, 3}, 6)}, kPlain);
  // longer than one query and one key block of the kernel
  expect_grad(f, {randn({1, 1, 130, 2}, 7), randn({1, 1, 130, 2}, 8), randn({1, 1, 130, 2}, 9)}, kPlain);
}
GRADCHECK(attention_qkv) {
  const GradcheckFn f = [](const Inputs& in) { return attention_qkv(in[0], 2); };
  expect_grad(f, {randn({2, 5, 12}, 1)});                       // B 2, T 5, 2 heads of 2
  expect_grad(f, {randn({1, 70, 6}, 2)}, kPlain | kStrided);    // longer than a query block
}
GRADCHECK(checkpoint) {
  // a recomputed piece: the gradients reach both inputs through the recomputation
  const CheckpointFn piece = [](const Inputs& in) { return mul(tanh(matmul(in[0], in[1])), sum(in[0], {1}, true)); };
  expect_grad([piece](const Inputs& in) { return checkpoint(piece, {in[0], in[1]}); }, {randn({3, 4}, 1), randn({4, 2}, 2)});
}
GRADCHECK(rope) {
  expect_grad([](const Inputs& in) { return rope(in[0], 3); }, {randn({2, 5, 6}, 1)});
}
GRADCHECK(cross_entropy) {
  const Tensor t = Tensor::from_vector<int64_t>({1, 0, 4, 4}, {4});
  expect_grad([t](const Inputs& in) { return cross_entropy(in[0], dev(t)); }, {randn({4, 5}, 1)});
  expect_grad([t](const Inputs& in) { return cross_entropy(in[0], dev(t), Reduction::none); }, {randn({4, 5}, 2)});
  const Tensor t2 = Tensor::from_vector<uint8_t>({1, 2, 0, 2, 1, 1}, {2, 3});
  expect_grad([t2](const Inputs& in) { return cross_entropy(in[0], dev(t2), Reduction::sum); }, {randn({2, 3, 3}, 3)});
}

// ---------------------------------------------------------------- the list is covered

TEST_CASE("every differentiable op has a gradcheck case, and only those") {
  std::set<std::string> listed;
#define MB_LISTED(name, ...) listed.insert(#name);
  MB_DIFFERENTIABLE_OPS(MB_LISTED)
#undef MB_LISTED
  for (const std::string& op : listed) {
    INFO("op without a GRADCHECK case: ", op);
    CHECK(registry().count(op) == 1);
  }
  for (const auto& entry : registry()) {
    const std::string& op = entry.first;  // (a structured binding cannot be captured by INFO)
    INFO("GRADCHECK case of an op that MB_DIFFERENTIABLE_OPS does not list: ", op);
    CHECK(listed.count(op) == 1);
  }
}

#ifndef MB_TEST_CUDA
TEST_CASE("the gradcheck cases build a node of every kind") {
  g_collecting = true;
  g_node_kinds.clear();
  for (const auto& [op, run] : registry()) run();
  g_collecting = false;
  for (int i = 0; i < op_kind_count(); ++i) {
    const OpKind k = op_kind_at(i);
    // every case of the gpu tests moves its inputs to the device and its output back
    if (k == OpKind::to_device) continue;
    INFO("no gradcheck case builds a node of kind ", std::string(op_name(k)));
    CHECK(g_node_kinds.count(k) == 1);
  }
}
#endif

TEST_CASE("the ops without a gradient give integer outputs that do not require one") {
  Tensor x = randn({3, 4}, 1);
  x.set_requires_grad();
  std::vector<std::pair<const char*, Tensor>> outputs;
#define MB_COMPARE_CASE(name, ...) outputs.emplace_back(#name, name(x, x));
  MB_COMPARE_OPS(MB_COMPARE_CASE)
#undef MB_COMPARE_CASE
  outputs.emplace_back("argmax", argmax(x, 1));
  int listed = 0;
#define MB_COUNT(name, ...) ++listed;
  MB_NONDIFFERENTIABLE_OPS(MB_COUNT)
#undef MB_COUNT
  CHECK(outputs.size() == size_t(listed));
  for (const auto& output : outputs) {
    INFO(output.first);
    CHECK(!output.second.requires_grad());
    CHECK(is_integral(output.second.dtype()));
  }
}

TEST_CASE("gradcheck itself catches a wrong gradient") {
  // an op whose recorded rule is deliberately wrong (gradient 2x too large)
  const GradcheckFn wrong = [](const Inputs& in) {
    Tensor y = mul_scalar(in[0].detach(), 3.0);
    record(OpKind::mul_scalar, {in[0]}, y, [](const Tensor& gy) { return std::vector<Tensor>{mul_scalar(gy, 6.0)}; });
    return y;
  };
  const GradcheckResult r = gradcheck(wrong, {randn({3}, 1)});
  CHECK(!r.ok);
  CHECK(r.message.find("analytic") != std::string::npos);
}
