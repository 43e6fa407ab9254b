// The CPU dispatch table.
#include "tensor/cpu/kernels.h"

namespace mb {

const Kernels& cpu_kernels() {
  static const Kernels k = {
      cpu::alloc, cpu::free, cpu::copy, cpu::fill, cpu::random, cpu::arange, [] {},
      cpu::unary, cpu::unary_backward, cpu::binary, cpu::binary_backward, cpu::compare,
      cpu::where, cpu::reduce, cpu::bmm, cpu::softmax, cpu::softmax_backward,
      cpu::layer_norm, cpu::layer_norm_backward, cpu::cross_entropy,
      cpu::cross_entropy_backward, cpu::sum_squares, cpu::adamw, cpu::embedding, cpu::embedding_backward,
      cpu::unfold_causal, cpu::fold_causal, cpu::attention,
      cpu::attention_backward,
  };
  return k;
}

}  // namespace mb
