// Forward values of the ops against hand-computed results and naive reference loops.
#include <array>
#include <atomic>
#include <cmath>

#include "helpers.h"
#include "tensor/backend.h"
#include "tensor/cpu/sgemm.h"
#include "tensor/parallel.h"

using namespace mb;
using namespace mb::test;

TEST_CASE("unary ops match their formulas") {
  const Tensor x = f64({-1.5, -0.5, 0.25, 2.0}, {4});
  const std::vector<double> v = {-1.5, -0.5, 0.25, 2.0};
  auto each = [&](double (*f)(double)) {
    std::vector<double> r;
    for (double a : v) r.push_back(f(a));
    return r;
  };
  check_values(neg(x), {1.5, 0.5, -0.25, -2.0});
  check_values(exp(x), each([](double a) { return std::exp(a); }));
  check_values(tanh(x), each([](double a) { return std::tanh(a); }));
  check_values(relu(x), {0, 0, 0.25, 2.0});
  check_values(abs(x), {1.5, 0.5, 0.25, 2.0});
  check_values(square(x), {2.25, 0.25, 0.0625, 4.0});
  check_values(sigmoid(x), each([](double a) { return 1 / (1 + std::exp(-a)); }));
  // GELU, exact erf form: gelu(1) = 0.841344746068543 (Φ(1) = 0.841344746...)
  check_values(gelu(f64({1.0, -1.0, 0.0}, {3})), {0.8413447460685429, -0.15865525393145707, 0});
  const Tensor p = f64({0.25, 4.0}, {2});
  check_values(sqrt(p), {0.5, 2.0});
  check_values(rsqrt(p), {2.0, 0.5});
  check_values(log(p), {std::log(0.25), std::log(4.0)});
  check_values(pow_scalar(p, 1.5), {0.125, 8.0});
  check_values(add_scalar(p, 1), {1.25, 5.0});
  check_values(3.0 - p, {2.75, -1.0});
  check_values(1.0 / p, {4.0, 0.25});
  check_values(clamp_min(x, 0.0), {0, 0, 0.25, 2.0});
  check_values(clamp_max(x, 0.0), {-1.5, -0.5, 0, 0});
}

// The CPU computes exp, log, tanh, sigmoid and GELU with Eigen's SIMD functions, a second
// form of those formulas: every unary op's CPU kernel, forward and backward, must agree with
// the one list (tensor/elementwise_ops.h) that the CUDA kernels expand, over a wide range.
TEST_CASE("every unary CPU kernel, SIMD forms included, equals the shared formula") {
  const double s = 0.7;  // the scalar of the scalar ops
  std::vector<double> xs;
  for (int i = 0; i < 1000; ++i) xs.push_back(-30 + 60 * std::pow(double(i) / 999, 1.5) - 0.013 * (i % 7));
  for (DType d : {DType::F64, DType::F32}) {
    const double tol = d == DType::F64 ? 1e-13 : 2e-6;  // relative to 1 + |value|
    auto check = [&](UnaryOp op, bool positive) {
      std::vector<double> in;
      for (double x : xs) in.push_back(positive ? std::abs(x) + 0.05 : x);
      const Tensor x = to(f64(in, {int64_t(in.size())}), d), gy = to(mul_scalar(x, 0.0), d) + 1.0;
      const Tensor y = x.empty_like(), gx = x.empty_like();
      cpu_kernels().unary(op, x, s, y);
      cpu_kernels().unary_backward(op, x, y, s, gy, gx);
      const std::vector<double> xv = to(x, DType::F64).to_vector<double>(), yv = to(y, DType::F64).to_vector<double>(),
                                gv = to(gx, DType::F64).to_vector<double>();
      visit_op(op, [&](auto c) {
        double worst = 0;
        for (size_t i = 0; i < xv.size(); ++i) {
          const double want = unary_fwd<c.value, double>(xv[i], s);
          const double dwant = unary_grad<c.value, double>(xv[i], want, s);
          worst = std::max({worst, std::abs(yv[i] - want) / (1 + std::abs(want)), std::abs(gv[i] - dwant) / (1 + std::abs(dwant))});
        }
        INFO(std::string(op_name(op)), " in ", std::string(dtype_name(d)), ": worst relative error ", worst);
        CHECK(worst <= tol);
      });
    };
#define MB_CHECK_OP(name, ...) \
  check(UnaryOp::name, UnaryOp::name == UnaryOp::log || UnaryOp::name == UnaryOp::sqrt || UnaryOp::name == UnaryOp::rsqrt || \
                           UnaryOp::name == UnaryOp::pow_scalar || UnaryOp::name == UnaryOp::rdiv_scalar);
    MB_ALL_UNARY_OPS(MB_CHECK_OP)
#undef MB_CHECK_OP
  }
}

TEST_CASE("binary ops broadcast like NumPy") {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = f64({10, 20, 30}, {3});
  const Tensor col = f64({100, 200}, {2, 1});
  check_values(a + row, {11, 22, 33, 14, 25, 36});
  check_values(a * col, {100, 200, 300, 800, 1000, 1200});
  check_values(row - col, {-90, -80, -70, -190, -180, -170});
  check_values(div(a, row), {0.1, 0.1, 0.1, 0.4, 0.25, 0.2});
  check_values(maximum(a, f64({3}, {1})), {3, 3, 3, 4, 5, 6});
  check_values(minimum(a, f64({3}, {1})), {1, 2, 3, 3, 3, 3});
  check_values(pow(f64({2, 3}, {2}), f64({3, 2}, {2})), {8, 9});
  // operands that are transposed / strided views
  check_values(transpose(a, 0, 1) + f64({1, 1}, {2}), {2, 5, 3, 6, 4, 7});
  check_values(slice(a, 1, 0, 3, 2) * 2.0, {2, 6, 8, 12});
}

TEST_CASE("comparisons, where, masked_fill") {
  const Tensor a = f64({1, 5, 3}, {3});
  const Tensor b = f64({2, 5, 1}, {3});
  check_values(lt(a, b), {1, 0, 0});
  check_values(eq(a, b), {0, 1, 0});
  check_values(ge(a, b), {0, 1, 1});
  CHECK(gt(a, b).dtype() == DType::U8);
  check_values(where(gt(a, b), a, b), {2, 5, 3});
  check_values(masked_fill(a, eq(a, b), -1.0), {1, -1, 3});
  check_values(eq(Tensor::arange(0, 4), Tensor::full({1}, 2, DType::I64)), {0, 0, 1, 0});
}

TEST_CASE("reductions over any axes, with keepdim") {
  const Tensor x = reshape(to(Tensor::arange(0, 24), DType::F64), {2, 3, 4});
  CHECK(sum(x).item() == 276);
  check_values(sum(x, {0}), {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  check_values(sum(x, {0, 2}), {60, 92, 124});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
  check_values(sum(x, {1}), {12, 15, 18, 21, 48, 51, 54, 57});  // the middle axis, read in place
  check_values(sum(x, {-1}), {6, 22, 38, 54, 70, 86});
  check_values(mean(x, {1, 2}), {5.5, 17.5});
  check_values(max(x, {1}), {8, 9, 10, 11, 20, 21, 22, 23});
  check_values(argmax(f64({1, 7, 7, 2, 9, 0}, {2, 3}), 1), {1, 1});  // first maximum wins
  CHECK(argmax(x, 2, true).shape() == Shape{2, 3, 1});
  // var: unbiased by default; biased with correction 0
  check_values(var(f64({1, 2, 3, 4}, {4})), {5.0 / 3});
  check_values(var(f64({1, 2, 3, 4}, {4}), {}, false, 0), {1.25});
  // reduction of a transposed view
  check_values(sum(transpose(reshape(x, {6, 4}), 0, 1), {1}), {60, 66, 72, 78});
  // integer sums stay integers
  CHECK(sum(Tensor::arange(0, 5)).item() == 10);
  // rows of 8 lanes and a tail, and rows long enough to be summed in chunks: exact in f64
  const Tensor n = reshape(to(Tensor::arange(0, 3 * 50001), DType::F64), {3, 50001});
  auto tri = [](double k) { return k * (k - 1) / 2; };  // 0 + 1 + … + (k − 1)
  check_values(sum(n, {1}), {tri(50001), tri(100002) - tri(50001), tri(150003) - tri(100002)});
  check_values(sum(narrow(n, 1, 0, 13), {1}), {78, 13 * 50001 + 78, 13 * 100002 + 78});
  CHECK(sum(n).item() == tri(150003));
}

// naive (..., M, K) @ (..., K, N) reference
static Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  std::vector<double> out;
  const int64_t batches = a.numel() / (M * K);
  const Tensor ac = contiguous(a), bc = contiguous(b);
  const std::vector<double> av = to(ac, DType::F64).to_vector<double>(), bv = to(bc, DType::F64).to_vector<double>();
  const bool bb = b.dim() > 2;
  for (int64_t t = 0; t < batches; ++t)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += av[size_t(t * M * K + i * K + k)] * bv[size_t((bb ? t * K * N : 0) + k * N + j)];
        out.push_back(s);
      }
  Shape shape(a.shape().begin(), a.shape().end() - 1);
  shape.push_back(N);
  return f64(out, shape);
}

TEST_CASE("matmul: 2-D, batched, transposed operands, vectors, broadcast batch") {
  check_values(matmul(f64({1, 2, 3, 4}, {2, 2}), f64({5, 6, 7, 8}, {2, 2})), {19, 22, 43, 50});
  const Tensor a = Tensor::randn({3, 5, 7}, 1, 0, DType::F64);
  const Tensor b = Tensor::randn({3, 7, 4}, 2, 0, DType::F64);
  CHECK(max_abs_diff(matmul(a, b), naive_matmul(a, b)) < 1e-12);
  const Tensor w = Tensor::randn({4, 7}, 3, 0, DType::F64);  // Linear weight (out, in)
  CHECK(max_abs_diff(matmul(a, transpose(w, 0, 1)), naive_matmul(a, contiguous(transpose(w, 0, 1)))) < 1e-12);
  const Tensor at = contiguous(transpose(a, 1, 2));  // (3, 7, 5) -> view back as (3, 5, 7)
  CHECK(max_abs_diff(matmul(transpose(at, 1, 2), b), naive_matmul(a, b)) < 1e-12);
  check_values(matmul(f64({1, 2}, {2}), f64({1, 2, 3, 4}, {2, 2})), {7, 10});
  check_values(matmul(f64({1, 2, 3, 4}, {2, 2}), f64({1, 1}, {2})), {3, 7});
  // (2, 1, M, K) @ (3, K, N) -> (2, 3, M, N)
  const Tensor x = Tensor::randn({2, 1, 4, 5}, 4, 0, DType::F64);
  const Tensor y = Tensor::randn({3, 5, 6}, 5, 0, DType::F64);
  const Tensor z = matmul(x, y);
  CHECK(z.shape() == Shape{2, 3, 4, 6});
  CHECK(max_abs_diff(select(select(z, 0, 1), 0, 2), matmul(select(select(x, 0, 1), 0, 0), select(y, 0, 2))) < 1e-12);
  // f32 through the packed GEMM (tensor/cpu/sgemm.h), threaded, agrees with the f64 result
  const Tensor big_a = Tensor::randn({300, 200}, 6), big_b = Tensor::randn({200, 100}, 7);
  const Tensor ref = matmul(to(big_a, DType::F64), to(big_b, DType::F64));
  CHECK(max_abs_diff(matmul(big_a, big_b), ref) < 1e-3);
}

TEST_CASE("conv1d_causal: hand-computed, and causal") {
  // one channel, kernel [1, 2, 3] (w[k] multiplies x[t - 2 + k]), bias 10
  const Tensor x = f64({1, 10, 100, 1000}, {1, 4, 1});
  const Tensor w = f64({1, 2, 3}, {1, 1, 3});
  check_values(conv1d_causal(x, w, f64({10}, {1})), {3 + 10, 2 + 30 + 10, 1 + 20 + 300 + 10, 10 + 200 + 3000 + 10});
  // changing input t changes no output before t
  const Tensor a = Tensor::randn({2, 9, 3}, 1, 0, DType::F64), k = Tensor::randn({4, 3, 5}, 2, 0, DType::F64);
  const Tensor b = clone(a);
  fill_(narrow(b, 1, 6, 1), 7.0);
  CHECK(max_abs_diff(narrow(conv1d_causal(a, k), 1, 0, 6), narrow(conv1d_causal(b, k), 1, 0, 6)) == 0);
  CHECK(max_abs_diff(narrow(conv1d_causal(a, k), 1, 6, 1), narrow(conv1d_causal(b, k), 1, 6, 1)) > 0);
}

TEST_CASE("softmax and log_softmax along any axis") {
  const Tensor x = f64({1, 2, 3, 1, 1, 1}, {2, 3});
  const double z = std::exp(1) + std::exp(2) + std::exp(3);
  check_values(softmax(x), {std::exp(1) / z, std::exp(2) / z, std::exp(3) / z, 1. / 3, 1. / 3, 1. / 3});
  check_values(log_softmax(x), {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3.0),
                                -std::log(3.0), -std::log(3.0)});
  const Tensor s0 = softmax(x, 0);
  check_values(sum(s0, {0}), {1, 1, 1});
  check_values(select(s0, 1, 0), {0.5, 0.5});
  // large logits stay finite
  check_values(softmax(f64({1000, 1000}, {2})), {0.5, 0.5});
}

TEST_CASE("layer_norm matches (x - mean) / sqrt(var + eps) * w + b") {
  const Tensor x = f64({1, 2, 3, 4, -1, 0, 0, 1}, {2, 4});
  const Tensor w = f64({1, 2, 1, 1}, {4}), b = f64({0, 0, 1, 0}, {4});
  const double r = 1 / std::sqrt(1.25 + 1e-5), r2 = 1 / std::sqrt(0.5 + 1e-5);
  check_values(layer_norm(x, w, b), {-1.5 * r, -0.5 * r * 2, 0.5 * r + 1, 1.5 * r,
                                     -1.0 * r2, 0, 1, 1 * r2}, 1e-12);
  check_values(layer_norm(x, Tensor(), Tensor()), {-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r,
                                                   -1.0 * r2, 0, 0, 1 * r2}, 1e-12);
}

TEST_CASE("embedding gathers rows for any index dtype") {
  const Tensor w = f64({0, 1, 10, 11, 20, 21}, {3, 2});
  check_values(embedding(w, Tensor::from_vector<int64_t>({2, 0, 2}, {3})), {20, 21, 0, 1, 20, 21});
  const Tensor e = embedding(w, Tensor::from_vector<uint8_t>({1, 2, 0, 1}, {2, 2}));
  CHECK(e.shape() == Shape{2, 2, 2});
  check_values(e, {10, 11, 20, 21, 0, 1, 10, 11});
  check_values(embedding(w, Tensor::from_vector<int32_t>({1}, {1})), {10, 11});
}

TEST_CASE("concat and split are inverse") {
  const Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {2, 1});
  const Tensor c = concat({a, b}, 1);
  CHECK(c.shape() == Shape{2, 3});
  check_values(c, {1, 2, 5, 3, 4, 6});
  check_values(concat({a, transpose(a, 0, 1)}, 0), {1, 2, 3, 4, 1, 3, 2, 4});
  const auto parts = split(c, {2, 1}, 1);
  CHECK(max_abs_diff(parts[0], a) == 0);
  CHECK(max_abs_diff(parts[1], b) == 0);
}

// softmax(q kᵀ/√d + causal mask) v composed from primitive ops: the reference the fused op
// must match.
static Tensor naive_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
  const int64_t Tq = q.size(2), Tk = k.size(2);
  Tensor s = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(double(q.size(3))));
  const Tensor qi = reshape(to(Tensor::arange(Tk - Tq, Tk), q.dtype()), {Tq, 1});
  const Tensor kj = reshape(to(Tensor::arange(0, Tk), q.dtype()), {1, Tk});
  s = masked_fill(s, gt(kj, qi), -1e300);
  return matmul(softmax(s, -1), v);
}

TEST_CASE("fused causal attention equals the composed reference (several block sizes)") {
  for (int64_t T : {1, 5, 64, 130, 300}) {
    const Tensor q = Tensor::randn({2, 3, T, 8}, 1, 0, DType::F64);
    const Tensor k = Tensor::randn({2, 3, T, 8}, 2, 0, DType::F64);
    const Tensor v = Tensor::randn({2, 3, T, 8}, 3, 0, DType::F64);
    INFO("T = ", T);
    CHECK(max_abs_diff(attention(q, k, v), naive_attention(q, k, v)) < 1e-12);
  }
  // queries against a longer KV history (the last Tq positions): a few (decoding's one-row
  // path) and more than a few (the blocked path)
  for (int64_t Tq : {1, 4, 5}) {
    const Tensor qf = Tensor::randn({1, 2, Tq, 16}, 7, 0, DType::F64);
    const Tensor kf = Tensor::randn({1, 2, 150, 16}, 8, 0, DType::F64);
    const Tensor vf = Tensor::randn({1, 2, 150, 16}, 9, 0, DType::F64);
    INFO("Tq = ", Tq);
    CHECK(max_abs_diff(attention(qf, kf, vf), naive_attention(qf, kf, vf)) < 1e-12);
    const Tensor o32 = attention(to(qf, DType::F32), to(kf, DType::F32), to(vf, DType::F32));
    CHECK(max_abs_diff(to(o32, DType::F64), naive_attention(qf, kf, vf)) < 1e-5);
  }
  const Tensor q = Tensor::randn({1, 2, 3, 4}, 4, 0, DType::F64);
  const Tensor k = Tensor::randn({1, 2, 200, 4}, 5, 0, DType::F64);
  const Tensor v = Tensor::randn({1, 2, 200, 4}, 6, 0, DType::F64);
  CHECK(max_abs_diff(attention(q, k, v), naive_attention(q, k, v)) < 1e-12);
  // causality: changing the last key/value leaves every earlier query's output unchanged
  const Tensor k2 = clone(k), v2 = clone(v);
  fill_(narrow(k2, 2, 199, 1), 3.0);
  fill_(narrow(v2, 2, 199, 1), -3.0);
  const Tensor o1 = attention(q, k, v), o2 = attention(q, k2, v2);
  CHECK(max_abs_diff(narrow(o1, 2, 0, 2), narrow(o2, 2, 0, 2)) == 0);
  CHECK(max_abs_diff(narrow(o1, 2, 2, 1), narrow(o2, 2, 2, 1)) > 1e-3);
}

TEST_CASE("attention_qkv equals attention over the split and transposed heads") {
  const Tensor qkv = Tensor::randn({2, 100, 3 * 3 * 4}, 7, 0, DType::F64);  // B 2, T 100, 3 heads of 4
  auto heads = [&](int64_t i) {  // (B, T, 3, H, D) -> part i as (B, H, T, D)
    return permute(select(reshape(qkv, {2, 100, 3, 3, 4}), 2, i), {0, 2, 1, 3});
  };
  const Tensor ref = reshape(transpose(attention(heads(0), heads(1), heads(2)), 1, 2), {2, 100, 12});
  CHECK(max_abs_diff(attention_qkv(qkv, 3), ref) < 1e-13);
  CHECK(error_of([&] { (void)attention_qkv(qkv, 5); }).find("5 heads") != std::string::npos);
}

TEST_CASE("rope: rotations by position, so q·k depends on the distance only") {
  // D = 2: one pair, angle = position
  const Tensor x = f64({1, 0, 1, 0}, {2, 2});
  check_values(rope(x, 0), {1, 0, std::cos(1.0), std::sin(1.0)});
  const Tensor q = Tensor::randn({1, 8}, 1, 0, DType::F64), k = Tensor::randn({1, 8}, 2, 0, DType::F64);
  auto score = [&](int64_t pq, int64_t pk) { return sum(mul(rope(q, pq), rope(k, pk))).item(); };
  CHECK(score(7, 3) == doctest::Approx(score(104, 100)).epsilon(1e-12));
  CHECK(std::abs(score(7, 3) - score(7, 4)) > 1e-6);
}

TEST_CASE("cross_entropy equals -log_softmax at the target") {
  const Tensor logits = f64({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor t = Tensor::from_vector<int64_t>({2, 0}, {2});
  const double z = std::log(std::exp(1) + std::exp(2) + std::exp(3));
  check_values(cross_entropy(logits, t, Reduction::none), {z - 3, std::log(3.0)});
  check_values(cross_entropy(logits, t), {(z - 3 + std::log(3.0)) / 2});
  check_values(cross_entropy(logits, t, Reduction::sum), {z - 3 + std::log(3.0)});
  // (B, T, V) logits with u8 byte targets
  const Tensor l3 = Tensor::randn({2, 3, 256}, 9, 0, DType::F64);
  const Tensor bytes = Tensor::from_vector<uint8_t>({0, 255, 17, 128, 3, 99}, {2, 3});
  const Tensor ref = neg(mean(sum(mul(log_softmax(l3), to(eq(unsqueeze(to(bytes, DType::I64), -1),
                                                               reshape(Tensor::arange(0, 256), {1, 1, 256})), DType::F64)), {-1})));
  CHECK(std::abs(cross_entropy(l3, bytes).item() - ref.item()) < 1e-12);
}

TEST_CASE("dropout: seeded, keeps expectation, identity when not training") {
  const Tensor x = Tensor::ones({100000}, DType::F64);
  const Tensor y = dropout(x, 0.25, 11, 0);
  const Tensor zeros = to(eq(y, Tensor::zeros({1}, DType::F64)), DType::F64);
  CHECK(std::abs(mean(zeros).item() - 0.25) < 0.01);
  CHECK(std::abs(mean(y).item() - 1.0) < 0.01);
  check_values(max(y), {1.0 / 0.75});
  CHECK(max_abs_diff(y, dropout(x, 0.25, 11, 0)) == 0);
  CHECK(max_abs_diff(y, dropout(x, 0.25, 12, 0)) > 0);
  CHECK(dropout(x, 0.25, 11, 0, false).same(x));
  CHECK(max(dropout(x, 1.0, 1, 0)).item() == 0);
}

// The packed f32 GEMM against a double loop: every kernel this CPU can run, sizes around its
// tiles (MR, NR, KC = 256, NC = 512) and not, operands row- and column-major, = and +=.
TEST_CASE("the packed GEMM equals a double loop for every kernel, size, layout and accumulate") {
  const int threads = num_threads();
  for (cpu::GemmIsa isa : {cpu::GemmIsa::avx2, cpu::GemmIsa::avx512}) {
    if (!cpu::gemm_isa_supported(isa)) continue;
    for (const auto& size : std::vector<std::array<int64_t, 3>>{
             {1, 1, 1}, {1, 384, 128}, {2, 33, 300}, {3, 40, 17}, {5, 7, 3}, {6, 16, 1}, {12, 32, 256}, {13, 33, 257},
             {25, 520, 300}, {100, 31, 600}, {7, 1030, 9}, {40, 600, 520}}) {  // (the last: a B of 1.2 MiB, M < N)
      const int64_t M = size[0], N = size[1], K = size[2];  // (INFO cannot capture a structured binding)
      for (int layout = 0; layout < 4; ++layout) {
        const bool ta = layout & 1, tb = layout & 2;
        const Tensor A = Tensor::randn({M, K}, 1), B = Tensor::randn({K, N}, 2), C0 = Tensor::randn({M, N}, 3);
        // the operands as stored: transposed ones column-major
        const Tensor As = ta ? contiguous(transpose(A, 0, 1)) : A, Bs = tb ? contiguous(transpose(B, 0, 1)) : B;
        const float *pa = As.data<float>(), *pb = Bs.data<float>();
        const int64_t rsa = ta ? 1 : K, csa = ta ? M : 1, rsb = tb ? 1 : N, csb = tb ? K : 1;
        for (bool acc : {false, true}) {
          for (int t : {1, 2}) {
            set_num_threads(t);
            Tensor C = clone(C0);
            cpu::sgemm(M, N, K, pa, rsa, csa, pb, rsb, csb, C.data<float>(), N, acc, isa);
            const Tensor want = add(matmul(to(A, DType::F64), to(B, DType::F64)), acc ? to(C0, DType::F64) : mul_scalar(to(C0, DType::F64), 0.0));
            INFO(cpu::gemm_isa_name(isa), " M ", M, " N ", N, " K ", K, " layout ", layout, " acc ", acc, " threads ", t);
            CHECK(rel_error(want, C) < 1e-5);
          }
        }
      }
    }
  }
  set_num_threads(threads);
}

// The Linear kernels fold the bias, the ReLU and the bias gradient into the GEMM; they must give
// bit for bit what the composed passes give (a copy of the bias, the product, a ReLU pass; the
// product and the reduce kernel), at sizes around the tiles, the K slices (256) and the column
// blocks (512), for few rows (no micro-kernel), none in K, more than 16 transposed row panels
// (packed 16 at a time), and x of 1.1-1.2 MiB (the weight gradient's B: its threads split the
// columns where out < in; else the rows, sharing one packed B on AMD), on 1 and 2 threads.
TEST_CASE("the Linear kernels' epilogues equal the composed passes bit for bit") {
  const int threads = num_threads();
  const Kernels& k = cpu_kernels();
  for (const auto& size : std::vector<std::array<int64_t, 3>>{
           {1, 7, 5}, {3, 40, 17}, {12, 32, 256}, {13, 33, 257}, {100, 600, 31}, {50, 40, 600}, {600, 40, 520},
           {300, 450, 40}, {1100, 260, 250}, {30, 20, 0}, {0, 5, 3}}) {
    const int64_t rows = size[0], out = size[1], in = size[2];
    const Tensor x = Tensor::randn({rows, in}, 1), w = Tensor::randn({out, in}, 2), b = Tensor::randn({out}, 3);
    const Tensor gy = Tensor::randn({rows, out}, 4);
    for (int t : {1, 2}) {
      set_num_threads(t);
      for (bool relu : {false, true})
        for (bool bias : {false, true}) {
          INFO("rows ", rows, " out ", out, " in ", in, " threads ", t, " relu ", relu, " bias ", bias);
          const Tensor bb = bias ? b : Tensor(), y = Tensor::empty({rows, out}), want = Tensor::empty({rows, out});
          k.linear(x, w, bb, relu, y);
          linear_by_gemm(k, x, w, bb, relu, want);
          CHECK(max_abs_diff(y, want) == 0);
          const Tensor gw = Tensor::empty({out, in}), gb = Tensor::empty({out});
          const Tensor gw0 = Tensor::empty({out, in}), gb0 = Tensor::empty({out});
          k.linear_backward_weight(x, gy, gw, bias ? gb : Tensor());
          linear_backward_weight_by_gemm(k, x, gy, gw0, bias ? gb0 : Tensor());
          CHECK(max_abs_diff(gw, gw0) == 0);
          if (bias) CHECK(max_abs_diff(gb, gb0) == 0);
        }
    }
  }
  set_num_threads(threads);
  // and the ReLU and the sums are the right ones: against double loops
  const Tensor x = Tensor::randn({40, 30}, 5), w = Tensor::randn({20, 30}, 6), b = Tensor::randn({20}, 7);
  const Tensor y = Tensor::empty({40, 20}), gb = Tensor::empty({20}), gw = Tensor::empty({20, 30});
  k.linear(x, w, b, true, y);
  k.linear_backward_weight(x, y, gw, gb);
  const Tensor pre = add(matmul(to(x, DType::F64), transpose(to(w, DType::F64), 0, 1)), to(b, DType::F64));
  CHECK(rel_error(relu(pre), y) < 1e-6);
  CHECK(rel_error(sum(relu(pre), {0}), gb) < 1e-6);
  CHECK(rel_error(matmul(transpose(relu(pre), 0, 1), to(x, DType::F64)), gw) < 1e-5);
}

TEST_CASE("the packed GEMM gives bitwise the same result on 1 and 2 threads") {
  if (cpu::gemm_isa() == cpu::GemmIsa::generic) {  // (Eigen's GEMM, whose threads split K)
    MESSAGE("no packed GEMM on this CPU (or MB_GEMM_ISA=generic): nothing to compare");
    return;
  }
  const int threads = num_threads();
  const Tensor a = Tensor::randn({300, 700}, 1), b = Tensor::randn({700, 530}, 2);
  set_num_threads(1);
  const Tensor one = matmul(a, b), one_t = matmul(transpose(b, 0, 1), transpose(a, 0, 1));
  set_num_threads(2);
  const Tensor two = matmul(a, b), two_t = matmul(transpose(b, 0, 1), transpose(a, 0, 1));
  set_num_threads(threads);
  CHECK(max_abs_diff(one, two) == 0);
  CHECK(max_abs_diff(one_t, two_t) == 0);
}

TEST_CASE("results do not depend on the thread count") {
  const int threads = num_threads();
  const Tensor x = Tensor::randn({64, 300}, 1), w = Tensor::randn({300}, 2), b = Tensor::randn({300}, 3);
  const Tensor q = Tensor::randn({2, 2, 100, 16}, 4), long_rows = Tensor::randn({3, 70001}, 5);
  auto run = [&] {
    return std::vector<Tensor>{layer_norm(x, w, b), softmax(x), sum(x, {0}), sum(x, {1}), attention(q, q, q),
                               sum(long_rows, {1}), sum(long_rows)};
  };
  set_num_threads(1);
  const auto one = run();
  set_num_threads(2);
  const auto two = run();
  set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i) CHECK(max_abs_diff(one[i], two[i]) == 0);
}

TEST_CASE("a SerialScope keeps parallel loops on the calling thread, and nests") {
  const int threads = num_threads();
  set_num_threads(2);
  auto chunks = [] {
    std::atomic<int> n{0};
    parallel_for(0, 1000, 1, [&](int64_t, int64_t) { ++n; });
    return n.load();
  };
  const int free_chunks = chunks();
  {
    SerialScope one;
    CHECK(chunks() == 1);
    {
      SerialScope inner;
      CHECK(in_serial_scope());
    }
    CHECK(in_serial_scope());  // the inner scope's end does not end the outer one
  }
  CHECK_FALSE(in_serial_scope());
#ifdef _OPENMP
  CHECK(free_chunks == 2);
#endif
  set_num_threads(threads);
}

// 1e-30 · 1e-10 = 1e-40 is a subnormal f32: 0 with flushing on, kept with it off; likewise a
// subnormal input (DAZ) reads as 0. Computed on each thread of a parallel loop.
static std::vector<float> products_on_each_thread() {
  std::vector<float> out(2, -1.0f);
  parallel_for(0, 2, 1, [&](int64_t lo, int64_t hi) {
    volatile float a = 1e-30f, b = 1e-10f;
    for (int64_t i = lo; i < hi; ++i) out[i] = a * b;
  });
  return out;
}
TEST_CASE("subnormals are flushed on every compute thread by default, and kept on request") {
  const int threads = num_threads();
  set_num_threads(2);
  REQUIRE(flush_denormals());  // the default (MB_DENORMALS is not set in the tests)
  for (float r : products_on_each_thread()) CHECK(r == 0.0f);
  volatile float sub = 1e-40f;
  CHECK(sub * 1.0f == 0.0f);  // DAZ: a subnormal input is read as 0
  set_flush_denormals(false);
  for (float r : products_on_each_thread()) CHECK(r == doctest::Approx(1e-40f).epsilon(1e-3));
  CHECK(sub * 1.0f != 0.0f);
  set_flush_denormals(true);
  for (float r : products_on_each_thread()) CHECK(r == 0.0f);
  set_num_threads(threads);
}

// Eigen's vectorised exp turns anything below about -88.4 into 2.9e-39, a subnormal; the
// kernels' exp gives 0 there, whatever the flushing mode, and the exact value elsewhere.
TEST_CASE("exp in the CPU kernels makes no subnormals: masked and far-off scores weigh exactly 0") {
  set_flush_denormals(false);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {-inf, -1000, -100, -88.5f, -87.4f, -87.3f, -50, 0, 1};
  for (int i = 0; i < 23; ++i) v.push_back(-inf);  // past a vector's width, into the scalar tail
  const Tensor x = Tensor::from_vector(v, {int64_t(v.size())});
  const std::vector<float> e = exp(x).to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) {
    CHECK(std::fpclassify(e[i]) != FP_SUBNORMAL);
    if (v[i] < -87.34f) CHECK(e[i] == 0.0f);
    else CHECK(e[i] == doctest::Approx(std::exp(double(v[i]))).epsilon(1e-6));
  }
  // softmax and cross-entropy's gradient over a row with masked and far-off logits
  const Tensor row = Tensor::from_vector(std::vector<float>{0, -inf, -100, -95, 0, -inf, -120, -90, 0}, {1, 9});
  const std::vector<float> p = softmax(row).to_vector<float>();
  for (int i : {1, 2, 3, 5, 6, 7}) CHECK(p[i] == 0.0f);
  CHECK(p[0] == doctest::Approx(1.0 / 3));
  Tensor logits = row.detach();
  logits.set_requires_grad(true);
  backward(cross_entropy(logits, Tensor::from_vector(std::vector<int64_t>{0}, {1})));
  const std::vector<float> g = logits.grad().to_vector<float>();
  for (int i : {1, 2, 3, 5, 6, 7}) CHECK(g[i] == 0.0f);
  set_flush_denormals(true);
}
