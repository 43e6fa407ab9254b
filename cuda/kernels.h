// The CUDA backend's kernels, one per entry of the dispatch table (tensor/kernels.def has the
// contract of each; the CPU twins in tensor/cpu/ are the oracle the gpu tests compare with).
// Grouped by file: memory.cu (allocator, copies, fill, random), elementwise.cu, reduce.cu,
// matmul.cu (cuBLAS), rows.cu (softmax, layer norm, cross-entropy), optim.cu, gather.cu
// (embedding, unfold/fold), attention.cu. All run on cuda::stream(); none synchronises.
#pragma once
#include "tensor/backend.h"

namespace mb::cuda {

#include "tensor/backend_kernels.inc"

}  // namespace mb::cuda
