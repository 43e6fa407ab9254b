// A two-layer MLP learns XOR with megabyte's autograd, layers and AdamW, as a program of its own
// would use the installed library. Exits 0 when it classifies all four points.
#include <cstdio>

#include "nn/layers.h"
#include "nn/optim.h"

using namespace mb;

struct Mlp : nn::Module {
  nn::Linear fc1{2, 16}, fc2{16, 2};
  Mlp() {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    uint64_t offset = 0;
    for (auto& [name, p] : named_parameters()) nn::normal_(*p, 0.5, 7, offset);
  }
  Tensor forward(const Tensor& x) const { return fc2.forward(tanh(fc1.forward(x))); }
};

int main() {
  const Tensor x = Tensor::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = Tensor::from_vector<int64_t>({0, 1, 1, 0}, {4});
  Mlp model;
  nn::AdamW opt(model.named_parameters(), {0.9, 0.99, 1e-8, 0.0});
  double loss = 0;
  for (int step = 0; step < 300; ++step) {
    model.zero_grad();
    const Tensor l = cross_entropy(model.forward(x), y);
    loss = l.item();
    backward(l);
    opt.step(0.05);
  }
  NoGradGuard no_grad;
  const Tensor predicted = argmax(model.forward(x), 1);
  const int right = int(sum(to(eq(predicted, y), DType::F32)).item());
  std::printf("xor: loss %.4f after 300 steps, %d of 4 right\n", loss, right);
  return right == 4 ? 0 : 1;
}
