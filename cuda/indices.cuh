// Index tensors as the kernels read them (embedding's rows, cross-entropy's targets), each
// element checked on the device against [0, limit): no copy of the indices to the host and no
// wait. The first index out of range is recorded (which op, its value, its flat position) in
// host-mapped memory and read as -1, for which the kernel reads nothing (a zero row, a NaN
// loss); the host raises it as an error at the next synchronising call (a copy to the host,
// cuda::synchronize()), which a training step makes anyway when it reads its loss.
#pragma once
#include "cuda/common.cuh"

namespace mb::cuda {

struct BadIndex {
  int flag, what;  // what: an IndexUse
  int64_t value, position, limit;
};
enum IndexUse : int { kEmbeddingIndex = 1, kCrossEntropyTarget = 2 };

struct Indices {
  const void* p;
  DType dt;
  int64_t limit;
  BadIndex* bad;  // device pointer to the mapped record
  int what;
};
// idx (contiguous U8, I32 or I64) for a kernel, checked against [0, limit)
Indices indices(const Tensor& idx, int64_t limit, IndexUse what);
// Throws the recorded index error, if a kernel recorded one, and clears it. Call only where the
// stream's work is done (after a synchronising call).
void raise_bad_index();

// Element i, or -1 when it is out of range: what the backward kernels read (the forward that
// read the same indices has recorded it).
__device__ __forceinline__ int64_t index_in_range(const Indices& ix, int64_t i) {
  const int64_t v = index_at(ix.p, ix.dt, i);
  return v >= 0 && v < ix.limit ? v : -1;
}
// Element i, or -1 when it is out of range, which is recorded: what the forward kernels read.
__device__ __forceinline__ int64_t checked_index(const Indices& ix, int64_t i) {
  const int64_t v = index_at(ix.p, ix.dt, i);
  if (v >= 0 && v < ix.limit) return v;
  if (atomicCAS(&ix.bad->flag, 0, 1) == 0) {  // the first to find one writes the record
    ix.bad->what = ix.what;
    ix.bad->value = v;
    ix.bad->position = i;
    ix.bad->limit = ix.limit;
  }
  return -1;
}

}  // namespace mb::cuda
