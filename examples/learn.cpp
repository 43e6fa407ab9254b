// learn: the worked examples of docs/learn.md, computed by the library itself (so the numbers
// in the doc are the code's, and a test fails if they ever change), and the checks of its
// exercises.
//   build/examples/learn trace          a value used twice, through the backward engine
//   build/examples/learn ce             cross-entropy's gradient, step by step
//   build/examples/learn sees           what each byte of "To be or not" is predicted from (P = 4)
//   build/examples/learn check EXERCISE ANSWER...      says pass or fail
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "megabyte/model.h"
#include "megabyte/zoo.h"

using namespace mb;

namespace {

// y = u·u + u with u = x·w: u is used twice, so its node receives two gradients, summed
// before its own rule runs.
int trace() {
  Tensor x = Tensor::scalar(3.0, DType::F64).set_requires_grad();
  Tensor w = Tensor::scalar(2.0, DType::F64).set_requires_grad();
  const Tensor u = x * w, s = u * u, y = s + u;
  std::printf("forward: u = x*w = %g, s = u*u = %g, y = s + u = %g\n\n", u.item(), s.item(), y.item());
  const std::map<const Node*, std::string> names = {
      {y.grad_fn().get(), "y = add(s, u)"}, {s.grad_fn().get(), "s = mul(u, u)"}, {u.grad_fn().get(), "u = mul(x, w)"}};
  // the engine first counts, for every node, the edges that bring it a gradient
  std::printf("graph (node <- its inputs) and the gradient sources each node waits for:\n");
  std::map<const Node*, int> sources;
  for (const auto& [node, name] : names)
    for (const Edge& e : node->next)
      if (e.fn) ++sources[e.fn.get()];
  for (const auto& [node, name] : names) {
    std::string inputs;
    for (const Edge& e : node->next)
      inputs += e.fn ? cat(" ", names.at(e.fn.get())[0]) : e.leaf.get() == x.impl_ptr().get() ? " x (leaf)" : " w (leaf)";
    std::printf("  %-14s <-%-12s  waits for %d\n", name.c_str(), inputs.c_str(), sources[node]);
  }
  std::printf("\nbackward(y), in the engine's order:\n");
  std::vector<std::string> order;
  std::vector<double> seen;
  const BackwardObserver previous = set_backward_observer([&](const Node& n, const Tensor& gy) {
    order.push_back(names.at(&n));
    seen.push_back(gy.item());
    std::printf("  run %-14s with dy/d(output) = %g\n", names.at(&n).c_str(), gy.item());
  });
  backward(y);
  set_backward_observer(previous);
  std::printf("\ndy/dx = %g (= (2u + 1)·w), dy/dw = %g (= (2u + 1)·x)\n", x.grad().item(), w.grad().item());
  const bool ok = order == std::vector<std::string>{"y = add(s, u)", "s = mul(u, u)", "u = mul(x, w)"} &&
                  seen == std::vector<double>{1, 1, 13} && x.grad().item() == 26 && w.grad().item() == 39 &&
                  sources[u.grad_fn().get()] == 3;
  return ok ? 0 : 1;
}

// loss = logsumexp(z) − z[t]; d loss / dz = softmax(z) − onehot(t)
int ce() {
  const std::vector<double> z = {2.0, 1.0, 0.1};
  const int t = 0;
  double m = z[0], sum = 0;
  for (double v : z) m = std::max(m, v);
  for (double v : z) sum += std::exp(v - m);
  const double lse = m + std::log(sum);
  std::printf("z = [2, 1, 0.1], target t = 0\n");
  std::printf("1. logsumexp(z) = max + log Σ exp(z − max) = %.6f\n", lse);
  std::printf("2. loss = logsumexp(z) − z[t] = %.6f  (= −log softmax(z)[t])\n", lse - z[t]);
  std::printf("3. d loss / d z_i = exp(z_i − logsumexp) − [i = t]:\n");
  std::vector<double> hand;
  for (size_t i = 0; i < z.size(); ++i) {
    hand.push_back(std::exp(z[i] - lse) - (int(i) == t ? 1 : 0));
    std::printf("     i = %zu: %.6f − %d = %+.6f\n", i, std::exp(z[i] - lse), int(i) == t, hand.back());
  }
  Tensor zt = Tensor::from_vector(z, {1, 3}).set_requires_grad();
  const Tensor loss = cross_entropy(zt, Tensor::from_vector<int64_t>({t}, {1}));
  backward(loss);
  const std::vector<double> g = zt.grad().to_vector<double>();
  std::printf("4. autograd (the cross_entropy kernel and its backward): loss %.6f, gradient [%+.6f, %+.6f, %+.6f]\n",
              loss.item(), g[0], g[1], g[2]);
  double worst = std::abs(loss.item() - (lse - z[t]));
  for (size_t i = 0; i < g.size(); ++i) worst = std::max(worst, std::abs(g[i] - hand[i]));
  std::printf("   largest difference from the hand computation: %.1e\n", worst);
  return worst < 1e-12 ? 0 : 1;
}

// For every byte of "To be or not", the input bytes that change its logits, found by changing
// each input byte of a random tiny MEGABYTE and looking: exactly the bytes before it, half
// through the global model (whole earlier patches) and half through the local one.
int sees() {
  Config c;
  c.seq = 12, c.patch = 4, c.gdim = 16, c.gheads = 2, c.glayers = 1, c.ldim = 8, c.lheads = 2, c.llayers = 1;
  c.init_std = 0.5;  // large weights: every dependence shows in the logits
  Megabyte model(c);
  model.init_parameters(1);
  const std::string text = "To be or not";
  std::vector<int64_t> ids(text.begin(), text.end());
  const Tensor base = model.forward(Tensor::from_vector(ids, {1, 12}));
  std::printf(" t  byte  patch k  p  global model: patches < k   local model: bytes of patch k before p   measured\n");
  bool ok = true;
  for (int64_t t = 0; t < 12; ++t) {
    std::string measured;
    for (int64_t j = 0; j < 12; ++j) {
      std::vector<int64_t> changed = ids;
      changed[size_t(j)] = (changed[size_t(j)] + 97) % 256;
      const Tensor out = model.forward(Tensor::from_vector(changed, {1, 12}));
      const double d = max(abs(sub(narrow(out, 1, t, 1), narrow(base, 1, t, 1)))).item();
      if (d > 0) measured += cat(measured.empty() ? "" : ",", j);
      ok = ok && ((d > 0) == (j < t));
    }
    const int64_t k = t / 4, p = t % 4;
    const std::string global = k == 0 ? "pad only" : "bytes 0.." + std::to_string(4 * k - 1);
    const std::string local = p == 0 ? "pad only" : "bytes " + std::to_string(4 * k) + ".." + std::to_string(t - 1);
    std::printf("%2lld  '%c'   %lld        %lld  %-27s  %-39s  %s\n", static_cast<long long>(t), text[size_t(t)],
                static_cast<long long>(k), static_cast<long long>(p), global.c_str(), local.c_str(),
                measured.empty() ? "none" : measured.c_str());
  }
  std::printf("\n%s\n", ok ? "every byte is predicted from exactly the bytes before it" : "CAUSALITY BROKEN");
  return ok ? 0 : 1;
}

// The exercises of docs/learn.md: each takes the reader's answer and says pass or fail.
int check(const std::string& exercise, const std::vector<std::string>& answer) {
  auto numbers = [&] {
    std::vector<double> v;
    for (const std::string& a : answer) v.push_back(std::strtod(a.c_str(), nullptr));
    return v;
  };
  auto close = [](const std::vector<double>& got, const std::vector<double>& want, double tol) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::abs(got[i] - want[i]) > tol) return false;
    return true;
  };
  bool ok = false;
  if (exercise == "e1") {  // y = u·u + u, u = x·w at x = 3, w = 2: dy/dx dy/dw
    ok = close(numbers(), {26, 39}, 1e-9);
  } else if (exercise == "e2") {  // d cross_entropy / dz for z = [1, 2, 3], t = 2, to 3 decimals
    Tensor z = Tensor::from_vector<double>({1, 2, 3}, {1, 3}).set_requires_grad();
    backward(cross_entropy(z, Tensor::from_vector<int64_t>({2}, {1})));
    ok = close(numbers(), z.grad().to_vector<double>(), 1e-3);
  } else if (exercise == "e3") {  // T 12, P 4: the positions whose bytes can change the logits at t = 6
    ok = close(numbers(), {0, 1, 2, 3, 4, 5}, 0);
  } else if (exercise == "e4") {  // P 4, after the decoder's step for t = 9: global and local cache lengths
    ok = close(numbers(), {3, 2}, 0);
  } else if (exercise == "e5") {  // parameters of the tiny preset
    ok = close(numbers(), {double(make_model(find_preset("tiny").config)->num_parameters())}, 0);
  } else {
    std::fprintf(stderr, "learn: no exercise '%s' (e1 to e5)\n", exercise.c_str());
    return 2;
  }
  std::printf("%s %s\n", exercise.c_str(), ok ? "pass" : "fail: not yet, try again (docs/learn.md has hints)");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  try {
    if (what == "trace") return trace();
    if (what == "ce") return ce();
    if (what == "sees") return sees();
    if (what == "check" && argc > 2) return check(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "learn: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: learn trace | ce | sees | check EXERCISE ANSWER...   (docs/learn.md)\n");
  return 2;
}
