// The README's first example: a Linear layer + GELU + cross-entropy, and its gradients.
//   build/examples/autograd_basics
#include <iostream>

#include "autograd/ops.h"

using namespace mb;

int main() {
  Tensor x = Tensor::randn({4, 8}, /*seed=*/1);           // f32, CPU
  Tensor w = Tensor::randn({16, 8}, 2).set_requires_grad();
  Tensor b = Tensor::zeros({16}).set_requires_grad();
  Tensor y = gelu(matmul(x, transpose(w, 0, 1)) + b);     // (4, 16); w is never copied
  Tensor loss = cross_entropy(y, Tensor::from_vector<int64_t>({1, 5, 9, 15}, {4}));
  backward(loss);                                          // w.grad(), b.grad()
  std::cout << "loss " << loss.item() << "\n" << b.grad() << "\n";
}
