// Bad input gets an mb::Error whose message names the op and what was wrong (shapes, dtypes,
// devices, indices), and nothing is left half-done.
#include "helpers.h"
#include "tensor/backend.h"

using namespace mb;
using namespace mb::test;

static void check_message(const std::string& msg, std::initializer_list<const char*> parts) {
  INFO("message: ", msg);
  CHECK(!msg.empty());
  for (const char* p : parts) CHECK(msg.find(p) != std::string::npos);
}

TEST_CASE("shape mismatches name the op and both shapes") {
  const Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  check_message(error_of([&] { (void)add(a, b); }), {"add", "[2, 3]", "[4]", "broadcast"});
  check_message(error_of([&] { (void)matmul(a, Tensor::zeros({4, 5})); }),
                {"matmul", "[2, 3]", "[4, 5]", "inner dims 3 and 4"});
  check_message(error_of([&] { (void)reshape(a, {4, 2}); }), {"reshape", "[2, 3]", "[4, 2]"});
  check_message(error_of([&] { (void)concat({a, Tensor::zeros({3, 3})}, 1); }),
                {"concat", "[2, 3]", "[3, 3]"});
  check_message(error_of([&] { (void)expand(a, {2, 4}); }), {"expand", "[2, 3]", "[2, 4]"});
  check_message(error_of([&] { (void)layer_norm(a, Tensor::ones({2}), Tensor()); }),
                {"layer_norm", "weight", "[2]", "[3]"});
  check_message(error_of([&] { (void)attention(Tensor::zeros({1, 2, 3, 4}), Tensor::zeros({1, 2, 3, 5}),
                                               Tensor::zeros({1, 2, 3, 5})); }),
                {"attention", "[1, 2, 3, 4]", "[1, 2, 3, 5]"});
  check_message(error_of([&] { (void)cross_entropy(a, Tensor::zeros({3}, DType::I64)); }),
                {"cross_entropy", "targets", "[3]", "[2, 3]"});
  check_message(error_of([&] { (void)split(a, {1, 1}, 1); }), {"split", "sum to 2", "3"});
}

TEST_CASE("dtype mismatches name the op and both dtypes") {
  const Tensor a = Tensor::zeros({2}, DType::F32), b = Tensor::zeros({2}, DType::F64);
  check_message(error_of([&] { (void)mul(a, b); }), {"mul", "f32", "f64"});
  check_message(error_of([&] { (void)matmul(a, b); }), {"matmul", "f32", "f64"});
  check_message(error_of([&] { (void)exp(Tensor::zeros({2}, DType::I64)); }), {"exp", "i64"});
  check_message(error_of([&] { (void)embedding(a.detach(), Tensor::zeros({2}, DType::F32)); }),
                {"embedding", "index", "f32"});
  check_message(error_of([&] { (void)where(Tensor::zeros({2}, DType::I64), a, a); }),
                {"where", "u8", "i64"});
}

TEST_CASE("out-of-range indices and axes are reported with the value") {
  const Tensor w = Tensor::zeros({5, 3});
  check_message(error_of([&] { (void)embedding(w, Tensor::from_vector<int64_t>({1, 5}, {2})); }),
                {"embedding", "index 5", "position 1", "[0, 5)"});
  check_message(error_of([&] { (void)embedding(w, Tensor::from_vector<int64_t>({-1}, {1})); }),
                {"embedding", "-1"});
  check_message(error_of([&] { (void)cross_entropy(Tensor::zeros({2, 4}), Tensor::from_vector<int64_t>({0, 4}, {2})); }),
                {"cross_entropy", "target 4"});
  check_message(error_of([&] { (void)sum(w, {2}); }), {"sum", "axis 2", "rank 2"});
  check_message(error_of([&] { (void)select(w, 0, 5); }), {"select", "index 5"});
  check_message(error_of([&] { (void)narrow(w, 1, 2, 2); }), {"narrow", "[2, 4)"});
  check_message(error_of([&] { (void)permute(w, {0, 0}); }), {"permute", "twice"});
}

TEST_CASE("ops on tensors of different devices are refused") {
  // Without a GPU backend a CUDA tensor cannot even be made: that error names the device.
  if (!backend_available(Device::CUDA)) {
    check_message(error_of([&] { (void)Tensor::zeros({2}, DType::F32, Device::CUDA); }),
                  {"cuda", "not available"});
    check_message(error_of([&] { (void)to(Tensor::zeros({2}), Device::CUDA); }), {"cuda"});
    return;
  }
  const Tensor a = Tensor::zeros({2}), b = Tensor::zeros({2}, DType::F32, Device::CUDA);
  check_message(error_of([&] { (void)add(a, b); }), {"add", "different devices", "cpu", "cuda"});
}

TEST_CASE("misuse of autograd and of in-place writes is refused") {
  Tensor p = Tensor::zeros({2});
  p.set_requires_grad();
  check_message(error_of([&] { fill_(p, 1.0); }), {"fill_", "requires grad", "NoGradGuard"});
  check_message(error_of([&] { copy_(p, Tensor::ones({2})); }), {"copy_", "requires grad"});
  {
    NoGradGuard g;
    fill_(p, 1.0);  // allowed: optimizer-style update
  }
  check_values(p, {1, 1});
  check_message(error_of([&] { (void)dropout(p, 1.5, 0, 0); }), {"dropout", "1.5"});
  check_message(error_of([&] { (void)to(p, DType::I64); }), {"to", "cut the gradient"});
  check_message(error_of([&] { (void)Tensor().shape(); }), {"undefined"});
  check_message(error_of([&] { (void)add(p, Tensor()); }), {"add", "second input", "undefined"});
  check_message(error_of([&] { (void)from_name<DType>("--dtype", "f16"); }), {"--dtype", "f16", "f32"});
}
