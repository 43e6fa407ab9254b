// The backward engine: accumulation, broadcasting, views, no_grad, detach, graph lifetime.
#include "helpers.h"

using namespace mb;
using namespace mb::test;

static Tensor leaf(const std::vector<double>& v, const Shape& s) {
  Tensor t = f64(v, s);
  t.set_requires_grad();
  return t;
}

TEST_CASE("hand-computed gradients: y = sum(a * b + a)") {
  Tensor a = leaf({1, 2, 3}, {3}), b = leaf({4, 5, 6}, {3});
  backward(sum(a * b + a));
  check_values(a.grad(), {5, 6, 7});
  check_values(b.grad(), {1, 2, 3});
}

TEST_CASE("gradients accumulate across backward calls and over shared inputs") {
  Tensor a = leaf({2}, {1});
  backward(sum(a * a));  // d/da a² = 2a = 4
  check_values(a.grad(), {4});
  backward(sum(a * 3.0));  // += 3
  check_values(a.grad(), {7});
  Tensor b = leaf({1, 2}, {2});
  const Tensor c = b * 2.0;
  backward(sum(c * c + c));  // diamond: d/db (4b² + 2b) = 8b + 2
  check_values(b.grad(), {10, 18});
}

TEST_CASE("broadcast gradients are summed back to the input's shape") {
  Tensor a = leaf({1, 2, 3, 4, 5, 6}, {2, 3}), bias = leaf({1, 1, 1}, {3}), col = leaf({1, 2}, {2, 1});
  backward(sum((a + bias) * col));
  check_values(bias.grad(), {3, 3, 3});
  check_values(col.grad(), {9, 18});  // row sums of a + bias
  check_values(a.grad(), {1, 1, 1, 2, 2, 2});
}

TEST_CASE("gradients flow through views: transpose, slice, expand, reshape, select") {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor y = sum(slice(transpose(x, 0, 1), 0, 1, 3) * f64({1, 10, 100, 1000}, {2, 2}));
  backward(y);
  // transpose(x)[1:3] = [[2, 5], [3, 6]] weighted by [[1, 10], [100, 1000]]
  check_values(x.grad(), {0, 1, 100, 0, 10, 1000});
  Tensor z = leaf({1, 2}, {2});
  backward(sum(expand(reshape(z, {2, 1}), {2, 4}) * 1.0) + sum(select(z, 0, 1) * 5.0));
  check_values(z.grad(), {4, 9});
}

TEST_CASE("backward with an explicit gradient, implicit only for one element") {
  Tensor x = leaf({1, 2, 3}, {3});
  backward(x * 2.0, f64({1, 0, -1}, {3}));
  check_values(x.grad(), {2, 0, -2});
  Tensor w = leaf({1, 2}, {2});
  CHECK(error_of([&] { backward(w * 2.0); }).find("one-element") != std::string::npos);
  CHECK(error_of([&] { backward(w * 2.0, f64({1}, {1})); }).find("does not match") != std::string::npos);
}

TEST_CASE("no_grad records nothing and detach cuts the graph") {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard g;
    const Tensor y = x * 2.0;
    CHECK(!y.requires_grad());
    CHECK(y.is_leaf());
  }
  const Tensor d = x.detach();
  CHECK(!d.requires_grad());
  CHECK(d.storage() == x.storage());
  const Tensor y = sum(x * d);  // gradient only through the first factor
  backward(y);
  check_values(x.grad(), {1, 2});
  CHECK(error_of([&] { backward(sum(d * 2.0)); }).find("does not require gradients") != std::string::npos);
}

TEST_CASE("the graph is freed after backward and a second backward is an error") {
  Tensor x = leaf({3}, {1});
  const Tensor y = sum(exp(x));
  backward(y);
  CHECK(error_of([&] { backward(y); }).find("already freed") != std::string::npos);
}

TEST_CASE("a leaf's grad is its own storage even when the rule passes gy to two inputs") {
  Tensor a = leaf({1, 2}, {2}), b = leaf({3, 4}, {2});
  backward(sum(a + b));
  CHECK(a.grad().storage() != b.grad().storage());
  {
    NoGradGuard g;
    fill_(a.grad(), 0.0);
  }
  check_values(b.grad(), {1, 1});
}

TEST_CASE("integer and comparison outputs carry no gradient") {
  Tensor x = leaf({1, 5, 3}, {3});
  CHECK(!argmax(x, 0).requires_grad());
  CHECK(!gt(x, x).requires_grad());
  CHECK(error_of([&] { Tensor::arange(0, 3).set_requires_grad(); }).find("floating") != std::string::npos);
}

TEST_CASE("a deep graph is freed without recursion, with or without backward") {
  Tensor x = leaf({1.0}, {1});
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y * 1.0;
  }  // dropped without backward
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0;
  backward(sum(y));
  check_values(x.grad(), {1.0});
}
