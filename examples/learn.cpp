// learn: the worked examples of docs/learn.md, computed by the library itself (so the numbers
// in the doc are the code's, and a test fails if they ever change), and the checks of its
// exercises.
//   build/examples/learn trace          a value used twice, through the backward engine
//   build/examples/learn ce             cross-entropy's gradient, step by step
//   build/examples/learn ln             LayerNorm's gradient, derived and checked
//   build/examples/learn softmax        softmax's gradient, derived and checked
//   build/examples/learn attention      causal attention's forward and backward by hand, one head
//   build/examples/learn block          the tiny preset's first global block, op by op, named
//   build/examples/learn numbers        parameters, FLOPs and activations, global vs local
//   build/examples/learn sees           what each byte of "To be or not" is predicted from (P = 4)
//   build/examples/learn check EXERCISE ANSWER...      says pass or fail
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "examples/two_level.h"
#include "megabyte/evaluate.h"
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

// ---------------------------------------------------------------- derivations

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
void print_vec(const char* name, const Vec& v) {
  std::printf("  %-26s [", name);
  for (size_t i = 0; i < v.size(); ++i) std::printf("%s%+.6f", i ? ", " : "", v[i]);
  std::printf("]\n");
}
double largest_gap(const Vec& a, const Vec& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}
// x's gradient after backward(sum(f(x) · dy)): what the op's backward gives for upstream dy
Vec autograd_gradient(const Vec& x, const Vec& dy, const std::function<Tensor(const Tensor&)>& f) {
  Tensor xt = Tensor::from_vector(x, {1, int64_t(x.size())}).set_requires_grad();
  backward(sum(mul(f(xt), Tensor::from_vector(dy, {1, int64_t(dy.size())}))));
  return xt.grad().to_vector<double>();
}

// LayerNorm: y = γ·x̂ + β, x̂ = (x − μ)/σ, σ = √(var + ε). With g = γ·dy:
// dx = (g − mean(g) − x̂·mean(g·x̂)) / σ (μ and σ depend on every x_i: the two means are those paths)
Vec layer_norm_gradient(const Vec& x, const Vec& gamma, const Vec& dy, bool show) {
  const double n = double(x.size()), mu = dot(x, Vec(x.size(), 1)) / n;
  double var = 0;
  for (double v : x) var += (v - mu) * (v - mu) / n;
  const double sigma = std::sqrt(var + 1e-5);
  Vec xhat, g, dx;
  for (size_t i = 0; i < x.size(); ++i) {
    xhat.push_back((x[i] - mu) / sigma);
    g.push_back(gamma[i] * dy[i]);
  }
  const double mean_g = dot(g, Vec(g.size(), 1)) / n, mean_gx = dot(g, xhat) / n;
  for (size_t i = 0; i < x.size(); ++i) dx.push_back((g[i] - mean_g - xhat[i] * mean_gx) / sigma);
  if (show) {
    std::printf("  1. mean %.6f, variance %.6f, sigma = sqrt(var + 1e-5) = %.6f\n", mu, var, sigma);
    print_vec("2. xhat = (x - mean) / sigma", xhat);
    print_vec("3. g = gamma * dy", g);
    std::printf("  4. mean(g) = %.6f, mean(g * xhat) = %.6f\n", mean_g, mean_gx);
    print_vec("5. dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma", dx);
  }
  return dx;
}

int ln() {
  const Vec x = {1, 2, 4, 7}, gamma = {1, 0.5, 2, 1}, dy = {0.5, -1, 0, 2};
  std::printf("x = [1, 2, 4, 7], γ = [1, 0.5, 2, 1], β = 0, upstream dy = [0.5, -1, 0, 2]\n");
  const Vec hand = layer_norm_gradient(x, gamma, dy, true);
  const Tensor w = Tensor::from_vector(gamma, {4});
  const Vec g = autograd_gradient(x, dy, [&](const Tensor& t) { return layer_norm(t, w, Tensor()); });
  print_vec("6. autograd (layer_norm)", g);
  std::printf("   largest difference from the hand computation: %.1e\n", largest_gap(g, hand));
  return largest_gap(g, hand) < 1e-9 ? 0 : 1;
}

// softmax: s = softmax(z); ds_i/dz_j = s_i([i = j] − s_j), so dz = s ⊙ (dy − ⟨dy, s⟩)
Vec softmax_of(const Vec& z) {
  double m = z[0], total = 0;
  for (double v : z) m = std::max(m, v);
  Vec s;
  for (double v : z) total += std::exp(v - m);
  for (double v : z) s.push_back(std::exp(v - m) / total);
  return s;
}
Vec softmax_gradient(const Vec& z, const Vec& dy) {
  const Vec s = softmax_of(z);
  const double inner = dot(dy, s);
  Vec dz;
  for (size_t i = 0; i < z.size(); ++i) dz.push_back(s[i] * (dy[i] - inner));
  return dz;
}

int softmax_example() {
  const Vec z = {1, 2, 3}, dy = {1, 0, -1};
  std::printf("z = [1, 2, 3], upstream dy = [1, 0, -1]\n");
  print_vec("1. s = softmax(z)", softmax_of(z));
  std::printf("  2. <dy, s> = %.6f (the part of dy that moving all z together would change)\n", dot(dy, softmax_of(z)));
  const Vec hand = softmax_gradient(z, dy);
  print_vec("3. dz = s * (dy - <dy, s>)", hand);
  const Vec g = autograd_gradient(z, dy, [](const Tensor& t) { return softmax(t); });
  print_vec("4. autograd (softmax)", g);
  std::printf("   the gradient sums to %.1e: adding a constant to z changes nothing\n", dot(hand, Vec(3, 1)));
  return largest_gap(g, hand) < 1e-12 ? 0 : 1;
}

// One head of causal attention, T = 3, d = 2, by hand: S = QKᵀ/√d (masked above the diagonal),
// A = softmax(S) by rows, O = AV; backward for upstream dO: dV = Aᵀ dO, dA = dO Vᵀ, each row of
// dS = softmax's backward of that row of A, dQ = dS K/√d, dK = dSᵀ Q/√d.
int attention_example() {
  const Mat Q = {{1, 0}, {0, 1}, {1, 1}}, K = {{1, 2}, {0, 1}, {-1, 0}}, V = {{1, 0}, {0, 2}, {3, 1}};
  const Mat dO = {{1, 0}, {0, 1}, {1, -1}};
  const size_t T = 3, d = 2;
  const double scale = 1 / std::sqrt(double(d));
  Mat A(T, Vec(T, 0)), O(T, Vec(d, 0)), dA(T, Vec(T, 0)), dS(T, Vec(T, 0));
  Mat dQ(T, Vec(d, 0)), dK(T, Vec(d, 0)), dV(T, Vec(d, 0));
  for (size_t i = 0; i < T; ++i) {
    Vec row;  // the scores of query i over keys 0..i: the mask leaves the rest out
    for (size_t j = 0; j <= i; ++j) row.push_back(dot(Q[i], K[j]) * scale);
    const Vec a = softmax_of(row);
    for (size_t j = 0; j <= i; ++j) A[i][j] = a[j];
  }
  for (size_t i = 0; i < T; ++i)
    for (size_t j = 0; j < T; ++j)
      for (size_t c = 0; c < d; ++c) {
        O[i][c] += A[i][j] * V[j][c];
        dV[j][c] += A[i][j] * dO[i][c];
        dA[i][j] += dO[i][c] * V[j][c];
      }
  for (size_t i = 0; i < T; ++i) {
    const Vec a(A[i].begin(), A[i].begin() + long(i + 1)), da(dA[i].begin(), dA[i].begin() + long(i + 1));
    const double inner = dot(a, da);
    for (size_t j = 0; j <= i; ++j) dS[i][j] = a[j] * (da[j] - inner);
  }
  for (size_t i = 0; i < T; ++i)
    for (size_t j = 0; j < T; ++j)
      for (size_t c = 0; c < d; ++c) {
        dQ[i][c] += dS[i][j] * K[j][c] * scale;
        dK[j][c] += dS[i][j] * Q[i][c] * scale;
      }
  std::printf("Q = [[1,0],[0,1],[1,1]], K = [[1,2],[0,1],[-1,0]], V = [[1,0],[0,2],[3,1]], upstream dO = [[1,0],[0,1],[1,-1]]\n");
  auto show = [](const char* name, const Mat& m) {
    std::printf("  %-4s", name);
    for (const Vec& r : m) {
      std::printf(" [");
      for (size_t c = 0; c < r.size(); ++c) std::printf("%s%+.4f", c ? " " : "", r[c]);
      std::printf("]");
    }
    std::printf("\n");
  };
  show("A", A), show("O", O), show("dV", dV), show("dA", dA), show("dS", dS), show("dQ", dQ), show("dK", dK);
  // the library's attention op on (B, H, T, d) = (1, 1, 3, 2)
  auto flat = [](const Mat& m) { Vec v; for (const Vec& r : m) v.insert(v.end(), r.begin(), r.end()); return v; };
  Tensor q = Tensor::from_vector(flat(Q), {1, 1, 3, 2}).set_requires_grad();
  Tensor k = Tensor::from_vector(flat(K), {1, 1, 3, 2}).set_requires_grad();
  Tensor v = Tensor::from_vector(flat(V), {1, 1, 3, 2}).set_requires_grad();
  const Tensor o = attention(q, k, v);
  backward(sum(mul(o, Tensor::from_vector(flat(dO), {1, 1, 3, 2}))));
  const double worst = std::max({largest_gap(o.to_vector<double>(), flat(O)), largest_gap(q.grad().to_vector<double>(), flat(dQ)),
                                 largest_gap(k.grad().to_vector<double>(), flat(dK)), largest_gap(v.grad().to_vector<double>(), flat(dV))});
  std::printf("largest difference from the library's attention op (O, dQ, dK, dV): %.1e\n", worst);
  return worst < 1e-12 ? 0 : 1;
}

// The tiny preset's first global block written out with plain ops and its parameters' names,
// on K = 64 patch vectors of width G = 128, against nn::Block::forward.
int block() {
  const Config c = find_preset("tiny").config;
  Megabyte m(c);
  m.init_parameters(3);
  std::map<std::string, Tensor> p;
  for (auto& [name, t] : m.named_parameters())
    if (name.rfind("global.blocks.0.", 0) == 0) p[name.substr(16)] = *t;
  const int64_t K = c.seq / c.patch, G = c.gdim, H = c.gheads, d = G / H;
  Tensor x = Tensor::zeros({1, K, G});
  uint64_t offset = 0;
  nn::normal_(x, 1.0, 5, offset);
  auto line = [](const char* what, const Tensor& t, const char* note) {
    std::printf("  %-48s %-16s %s\n", what, to_string(t.shape()).c_str(), note);
  };
  std::printf("global.blocks.0 of the tiny preset: G = %lld, %lld heads of d = %lld, over K = %lld patches\n",
              static_cast<long long>(G), static_cast<long long>(H), static_cast<long long>(d), static_cast<long long>(K));
  line("x", x, "the block's input: one vector per patch");
  const Tensor a = layer_norm(x, p["ln1.weight"], p["ln1.bias"]);
  line("a = layer_norm(x)    (ln1)", a, "ln1.weight, ln1.bias: (G)");
  const Tensor qkv = linear(a, p["attn.qkv.weight"], p["attn.qkv.bias"]);
  line("qkv = a W^T + b      (attn.qkv)", qkv, "attn.qkv.weight: (3G, G), bias (3G)");
  auto heads = [&](int64_t which) { return permute(reshape(narrow(qkv, 2, which * G, G), {1, K, H, d}), {0, 2, 1, 3}); };
  const Tensor q = heads(0), k = heads(1), v = heads(2);
  line("q, k, v = qkv cut in 3, each in H heads", q, "(B, H, K, d)");
  std::vector<uint8_t> above(size_t(K * K));
  for (int64_t i = 0; i < K; ++i)
    for (int64_t j = i + 1; j < K; ++j) above[size_t(i * K + j)] = 1;
  const Tensor scores = masked_fill(mul_scalar(matmul(q, transpose(k, 2, 3)), 1 / std::sqrt(double(d))),
                                    Tensor::from_vector(above, {K, K}), -INFINITY);
  line("S = q k^T / sqrt(d), -inf above the diagonal", scores, "patch i attends to patches <= i");
  const Tensor o = matmul(softmax(scores), v);
  line("o = softmax(S) v", o, "each row of softmax(S) sums to 1");
  const Tensor y = reshape(permute(o, {0, 2, 1, 3}), {1, K, G});
  line("y = the heads side by side again", y, "(B, K, G)");
  const Tensor h = add(x, linear(y, p["attn.proj.weight"], p["attn.proj.bias"]));
  line("h = x + y W^T + b    (attn.proj)", h, "attn.proj.weight: (G, G); the first residual");
  const Tensor f = relu(linear(layer_norm(h, p["ln2.weight"], p["ln2.bias"]), p["mlp.fc1.weight"], p["mlp.fc1.bias"]));
  line("f = relu(layer_norm(h) W^T + b)  (ln2, mlp.fc1)", f, "mlp.fc1.weight: (4G, G)");
  const Tensor out = add(h, linear(f, p["mlp.fc2.weight"], p["mlp.fc2.bias"]));
  line("out = h + f W^T + b  (mlp.fc2)", out, "mlp.fc2.weight: (G, 4G); the second residual");
  const double gap = max(abs(sub(out, m.global.blocks[0]->forward(x, nullptr)))).item();
  std::printf("largest difference from nn::Block::forward (fused attention, ReLU in the GEMM): %.1e\n", gap);
  return gap < 1e-4 ? 0 : 1;
}

// Where a config's parameters, forward FLOPs and training activations go: the global stack, the
// local one (with its embeddings, projection and head), the logits. The split is computed here;
// its sums must equal the library's totals (megabyte/config.cpp).
struct Split {
  double params_global, params_local, flops_global, flops_local, act_global, act_local, act_logits;
};
Split split_of(const Config& c, int64_t batch) {
  const ModelSize s = model_size(c);
  const double T = double(c.seq), P = double(c.patch), K = T / P, G = double(c.gdim), DG = G / P, DL = double(c.ldim);
  const double Lg = double(c.glayers), Ll = double(c.llayers), B = double(batch), V = Config::vocab;
  // a block per position: 24d² for QKV, output and MLP, 4·seq·d for QKᵀ and AV over the square
  auto stack = [](double seq, double d, double layers) { return 2 * layers * (12 * d * d + 2 * seq * d); };
  Split r{s.global_embed + s.global_stack, s.global_to_local + s.local_embed + s.local_stack + s.head,
          stack(K, G, Lg) / P,                                          // the global stack: once per patch
          stack(P, DL, Ll) + 2 * (DG + V) * DL,                         // the local stack per byte, projection, head
          4 * B * T / P * 18 * G * Lg, 4 * B * T * 18 * DL * Ll, 4 * 2 * B * T * V};  // f32 bytes
  const double flops = forward_flops_per_byte(c), act = training_memory(c, batch).activations;
  MB_CHECK(std::abs(r.flops_global + r.flops_local - flops) <= 1e-9 * flops &&
               std::abs(r.act_global + r.act_local + r.act_logits - act) <= 1e-9 * act &&
               std::abs(r.params_global + r.params_local - s.total()) <= 1e-9 * s.total(),
           "learn numbers: the split no longer adds up to the library's totals (megabyte/config.cpp changed?)");
  return r;
}

int numbers() {
  std::printf("| preset (batch) | part | parameters | forward FLOPs per byte | activations of a training step (f32) |\n");
  std::printf("|---|---|---:|---:|---:|\n");
  for (const char* name : {"tiny", "paper-text"}) {
    const Preset& pr = find_preset(name);
    const Split s = split_of(pr.config, pr.batch);
    const double p = s.params_global + s.params_local, f = s.flops_global + s.flops_local, a = s.act_global + s.act_local + s.act_logits;
    auto row = [&](const char* part, double pv, double fv, double av) {
      std::printf("| %s (%lld) | %s | %s (%.0f%%) | %s (%.0f%%) | %s (%.0f%%) |\n", name, static_cast<long long>(pr.batch), part,
                  count_text(pv).c_str(), 100 * pv / p, count_text(fv, "FLOP").c_str(), 100 * fv / f, bytes_text(av).c_str(), 100 * av / a);
    };
    row("global (embeddings, stack)", s.params_global, s.flops_global, s.act_global);
    row("local (projection, embeddings, stack, head)", s.params_local, s.flops_local, s.act_local + s.act_logits);
  }
  return 0;
}

// ---------------------------------------------------------------- MEGABYTE

// A random MEGABYTE of T = 12, P = 4 with large weights, so that every dependence shows.
std::unique_ptr<Megabyte> random_tiny() {
  Config c;
  c.seq = 12, c.patch = 4, c.gdim = 16, c.gheads = 2, c.glayers = 1, c.ldim = 8, c.lheads = 2, c.llayers = 1;
  c.init_std = 0.5;
  auto m = std::make_unique<Megabyte>(c);
  m->init_parameters(1);
  return m;
}

// The input positions that change the logits of byte t of `ids` under `forward`.
std::vector<double> seen_by(const std::function<Tensor(const Tensor&)>& forward, const std::vector<int64_t>& ids, int64_t t) {
  const int64_t T = int64_t(ids.size());
  const Tensor base = forward(Tensor::from_vector(ids, {1, T}));
  std::vector<double> seen;
  for (int64_t j = 0; j < T; ++j) {
    std::vector<int64_t> changed = ids;
    changed[size_t(j)] = (changed[size_t(j)] + 97) % 256;
    const Tensor out = forward(Tensor::from_vector(changed, {1, T}));
    if (max(abs(sub(narrow(out, 1, t, 1), narrow(base, 1, t, 1)))).item() > 0) seen.push_back(double(j));
  }
  return seen;
}

// For every byte of "To be or not", the input bytes that change its logits, found by changing
// each input byte of a random tiny MEGABYTE and looking: exactly the bytes before it, half
// through the global model (whole earlier patches) and half through the local one.
int sees() {
  const auto model = random_tiny();
  const std::string text = "To be or not";
  const std::vector<int64_t> ids(text.begin(), text.end());
  std::printf(" t  byte  patch k  p  global model: patches < k   local model: bytes of patch k before p   measured\n");
  bool ok = true;
  for (int64_t t = 0; t < 12; ++t) {
    const std::vector<double> seen = seen_by([&](const Tensor& x) { return model->forward(x); }, ids, t);
    std::string measured;
    for (double j : seen) measured += cat(measured.empty() ? "" : ",", int64_t(j));
    ok = ok && int64_t(seen.size()) == t && (seen.empty() || seen.back() == double(t - 1));
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
  auto answer_numbers = [&] {
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
    ok = close(answer_numbers(), {26, 39}, 1e-9);
  } else if (exercise == "e2") {  // d cross_entropy / dz for z = [1, 2, 3], t = 2, to 3 decimals
    Tensor z = Tensor::from_vector<double>({1, 2, 3}, {1, 3}).set_requires_grad();
    backward(cross_entropy(z, Tensor::from_vector<int64_t>({2}, {1})));
    ok = close(answer_numbers(), z.grad().to_vector<double>(), 1e-3);
  } else if (exercise == "e3") {  // T 12, P 4: the positions whose bytes can change the logits at t = 6
    ok = close(answer_numbers(), {0, 1, 2, 3, 4, 5}, 0);
  } else if (exercise == "e4") {  // P 4, after the decoder's step for t = 9: global and local cache lengths
    ok = close(answer_numbers(), {3, 2}, 0);
  } else if (exercise == "e5") {  // parameters of the tiny preset
    ok = close(answer_numbers(), {double(make_model(find_preset("tiny").config)->num_parameters())}, 0);
  } else if (exercise == "e8") {  // LayerNorm: dx for x = [1, 2, 3, 4], γ = 1, β = 0, dy = [1, 0, 0, 0]
    const Vec x = {1, 2, 3, 4}, dy = {1, 0, 0, 0};
    ok = close(answer_numbers(), autograd_gradient(x, dy, [](const Tensor& t) { return layer_norm(t, Tensor(), Tensor()); }), 1e-3);
  } else if (exercise == "e9") {  // softmax: dz for z = [0, 0, 0, 0], dy = [1, 0, 0, 0]
    const Vec z = {0, 0, 0, 0}, dy = {1, 0, 0, 0};
    ok = close(answer_numbers(), autograd_gradient(z, dy, [](const Tensor& t) { return softmax(t); }), 1e-3);
  } else if (exercise == "e10") {  // paper-text: K and D_G
    const Config& c = find_preset("paper-text").config;
    ok = close(answer_numbers(), {double(c.seq / c.patch), double(c.dg())}, 0);
  } else if (exercise == "e11") {  // the shift removed, T 12, P 4: the positions that change byte 5's logits
    const auto m = random_tiny();
    const std::string text = "To be or not";
    ok = close(answer_numbers(), seen_by([&](const Tensor& x) { return example::two_level_forward(*m, x, false); },
                                  std::vector<int64_t>(text.begin(), text.end()), 5), 0);
  } else if (exercise == "e12") {  // paper-text: the local model's share of the forward FLOPs per byte
    const Split sp = split_of(find_preset("paper-text").config, 1);
    ok = close(answer_numbers(), {sp.flops_local / (sp.flops_global + sp.flops_local)}, 0.005);
  } else if (exercise == "e13") {  // strided inference, 12 bytes, P 4: the bytes taken from the shifted pass
    const auto m = random_tiny();
    const std::string text = "To be or not";
    const std::vector<uint8_t> data(text.begin(), text.end());
    EvalOptions plain, strided;
    strided.strided = true;
    const std::vector<double> a = byte_nats(*m, data, 0, 12, plain), b = byte_nats(*m, data, 0, 12, strided);
    std::vector<double> shifted;
    for (size_t t = 0; t < a.size(); ++t)
      if (a[t] != b[t]) shifted.push_back(double(t));
    ok = close(answer_numbers(), shifted, 0);
  } else {
    std::fprintf(stderr, "learn: no exercise '%s' (e1 to e13)\n", exercise.c_str());
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
    if (what == "ln") return ln();
    if (what == "softmax") return softmax_example();
    if (what == "attention") return attention_example();
    if (what == "block") return block();
    if (what == "numbers") return numbers();
    if (what == "sees") return sees();
    if (what == "check" && argc > 2) return check(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "learn: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: learn trace | ce | ln | softmax | attention | block | numbers | sees | check EXERCISE ANSWER...   (docs/learn.md)\n");
  return 2;
}
