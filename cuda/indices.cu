// The record of an index out of range (cuda/indices.cuh): one BadIndex in pinned host memory
// mapped into the device's address space, written by a kernel only when it finds one.
#include "cuda/indices.cuh"

#include <atomic>

namespace mb::cuda {
namespace {

std::atomic<BadIndex*> made{nullptr};  // the host side, once record() has made it

struct Record {
  BadIndex* host = nullptr;
  BadIndex* device = nullptr;
};
const Record& record() {
  static const Record r = [] {
    Record m;
    void* p = nullptr;
    MB_CUDA_CHECK(cudaHostAlloc(&p, sizeof(BadIndex), cudaHostAllocMapped));
    m.host = static_cast<BadIndex*>(p);
    *m.host = BadIndex{};
    void* d = nullptr;
    MB_CUDA_CHECK(cudaHostGetDevicePointer(&d, p, 0));
    m.device = static_cast<BadIndex*>(d);
    made = m.host;
    return m;  // kept for the process
  }();
  return r;
}

}  // namespace

Indices indices(const Tensor& idx, int64_t limit, IndexUse what) {
  return Indices{idx.raw_data(), idx.dtype(), limit, record().device, what};
}

void raise_bad_index() {
  volatile BadIndex* b = made.load();
  if (!b || b->flag == 0) return;
  const BadIndex got{b->flag, b->what, b->value, b->position, b->limit};
  b->flag = 0;
  throw Error(cat(got.what == kEmbeddingIndex ? "embedding: index " : "cross_entropy: target ", got.value,
                  " at flat position ", got.position, " is out of range [0, ", got.limit,
                  ") (found on the GPU, reported at the next synchronising call)"));
}

}  // namespace mb::cuda
