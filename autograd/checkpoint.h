// Activation recomputation ("gradient checkpointing"): run a piece of the model without
// keeping its intermediate activations, and run it again during backward to get them back.
// A training step then holds only each piece's input, so its memory grows with T far more
// slowly, for about one extra forward pass of compute.
#pragma once
#include <functional>
#include <vector>

#include "autograd/ops.h"

namespace mb {

using CheckpointFn = std::function<Tensor(const std::vector<Tensor>&)>;

// y = f(inputs), recording one node instead of f's graph. In backward, f runs again on the
// saved inputs with gradients on and is backpropagated from gy: inputs get their gradients,
// and parameters that f uses accumulate theirs, as without recomputation. f must compute
// the same thing both times (its dropout masks included: give it a stream that replays), and
// some input must require a gradient (a model's activations do), or no node is recorded.
Tensor checkpoint(const CheckpointFn& f, const std::vector<Tensor>& inputs);

}  // namespace mb
