// The CPU backend's kernels, one per entry of the dispatch table (tensor/kernels.def has the
// contract of each). Grouped by file: memory.cpp, elementwise.cpp, reduce.cpp, matmul.cpp,
// rows.cpp (softmax, layer norm, cross-entropy), optim.cpp, embedding.cpp, attention.cpp.
#pragma once
#include "tensor/backend.h"

namespace mb::cpu {

#include "tensor/backend_kernels.inc"

void empty_cache();      // returns the cached free blocks to the OS
size_t cached_bytes();   // bytes held in free blocks for reuse

// Reads element i of an integer tensor of any index dtype (u8, i32, i64), contiguous.
inline int64_t index_at(const Tensor& idx, int64_t i) {
  switch (idx.dtype()) {
    case DType::U8: return static_cast<const uint8_t*>(idx.raw_data())[i];
    case DType::I32: return static_cast<const int32_t*>(idx.raw_data())[i];
    default: return static_cast<const int64_t*>(idx.raw_data())[i];
  }
}

}  // namespace mb::cpu
