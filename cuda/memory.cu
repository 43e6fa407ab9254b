// CUDA memory: a caching allocator, strided copies with dtype conversion, fill, random, arange,
// and copies between host and device.
//
// cudaMalloc and cudaFree synchronise the device and cost tens of microseconds; a training
// step allocates the same sizes every time. Freed blocks go to a free list of their rounded
// size and the next request of that size takes one back. Every kernel runs on the one stream,
// so a block freed by the host while a kernel still uses it is only reused by kernels queued
// after that one: stream order makes the reuse safe without events.
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/indices.cuh"
#include "cuda/kernels.h"
#include "cuda/runtime.h"
#include "cuda/strided.cuh"
#include "tensor/philox.h"

namespace mb::cuda {

namespace {
// MB_CUDA_ALLOC=exact: every tensor is its own cudaMalloc of exactly its size, freed at once (no
// bins, no cache), so that compute-sanitizer's memcheck sees a one-element overrun and a use
// after free. Slow (cudaMalloc and cudaFree per tensor): for checking only.
bool exact_sizes() {
  static const bool on = [] {
    const char* v = std::getenv("MB_CUDA_ALLOC");
    const std::string s = v ? v : "";
    MB_CHECK(s.empty() || s == "exact" || s == "caching", "MB_CUDA_ALLOC must be exact or caching, got '", s, "'");
    return s == "exact";
  }();
  return on;
}
size_t round_size(size_t n) {
  if (exact_sizes()) return std::max<size_t>(n, 1);
  constexpr size_t kSmall = size_t(1) << 20, kLarge = size_t(2) << 20;
  const size_t to = n < kSmall ? 512 : kLarge;  // small: 512 B bins; large: 2 MiB bins
  return (std::max<size_t>(n, 1) + to - 1) / to * to;
}

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;  // rounded size -> cached blocks
  std::unordered_map<void*, size_t> size_of;            // every block we handed out
  MemoryStats stats;

  void release_cached() {  // the caller holds mu
    for (auto& [sz, blocks] : free)
      for (void* p : blocks) {
        cudaFree(p);
        stats.reserved -= sz;
      }
    free.clear();
  }
};
Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: tensors freed at exit still find it
  return *p;
}
}  // namespace

void* alloc(size_t nbytes) {
  const size_t sz = round_size(nbytes);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  void* ptr = nullptr;
  auto it = p.free.find(sz);
  if (it != p.free.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
  } else {
    if (cudaMalloc(&ptr, sz) != cudaSuccess) {  // give the cache back and try once more
      cudaGetLastError();
      cudaStreamSynchronize(stream());  // queued kernels may still use the cached blocks
      p.release_cached();
      if (cudaMalloc(&ptr, sz) != cudaSuccess) {
        cudaGetLastError();
        throw Error(cat("CUDA out of memory: a tensor needs ", bytes_text(double(nbytes)), " (in use ",
                        bytes_text(double(p.stats.in_use)), ", reserved ", bytes_text(double(p.stats.reserved)), ")"));
      }
    }
    p.stats.reserved += sz;
  }
  p.size_of[ptr] = sz;
#if defined(EMU_CUDA)
  emu::device_block(ptr, nbytes, sz);  // the emulator's memcheck: the bytes asked for, not the bin's
#endif
  p.stats.in_use += sz;
  p.stats.peak = std::max(p.stats.peak, p.stats.in_use);
  return ptr;
}

void free(void* ptr) {
  if (!ptr) return;
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.size_of.find(ptr);
  if (it == p.size_of.end()) return;
  if (exact_sizes()) {  // (cudaFree waits for the kernels that may still use it)
    cudaFree(ptr);
    p.stats.reserved -= it->second;
  } else {
    p.free[it->second].push_back(ptr);
#if defined(EMU_CUDA)
    emu::device_block(ptr, 0, it->second);  // a cached block: no access until it is handed out again
#endif
  }
  p.stats.in_use -= it->second;
  p.size_of.erase(it);
}

MemoryStats memory_stats() {
  std::lock_guard<std::mutex> lock(pool().mu);
  return pool().stats;
}
void empty_cache() {
  synchronize();
  std::lock_guard<std::mutex> lock(pool().mu);
  pool().release_cached();
}

// ---------------------------------------------------------------- copies and fills

namespace {
template <class S, class D> void copy_t(const Tensor& src, const Tensor& dst) {
  const S* sp = ptr<S>(src);
  D* dp = ptr<D>(dst);
  for_each<2>(dst.shape(), {&src, &dst}, [=] __device__(const int64_t(&o)[2]) { dp[o[1]] = convert<D>(sp[o[0]]); });
}
template <class T> void fill_t(const Tensor& dst, double value) {
  T* p = ptr<T>(dst);
  for_each<1>(dst.shape(), {&dst}, [=] __device__(const int64_t(&o)[1]) { p[o[0]] = convert<T>(value); });
}
template <class T> void random_t(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal) {
  T* p = ptr<T>(dst);
  for_each<1>(dst.shape(), {&dst}, [=] __device__(const int64_t(&o)[1]) {
    const uint64_t c = offset + uint64_t(o[0]);
    p[o[0]] = convert<T>(normal ? philox_normal(seed, c) : philox_uniform(seed, c));
  });
}
template <class T> void arange_t(const Tensor& dst, double begin) {
  T* p = ptr<T>(dst);
  for_each<1>(dst.shape(), {&dst}, [=] __device__(const int64_t(&o)[1]) { p[o[0]] = convert<T>(begin + double(o[0])); });
}
}  // namespace

void copy(const Tensor& src, const Tensor& dst) {
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    MB_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), size_t(src.numel()) * dtype_size(src.dtype()),
                                  cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  visit_all(src.dtype(), [&](auto s) {
    visit_all(dst.dtype(), [&](auto d) { copy_t<decltype(s), decltype(d)>(src, dst); });
  });
}

void fill(const Tensor& dst, double value) {
  visit_all(dst.dtype(), [&](auto z) { fill_t<decltype(z)>(dst, value); });
}

// Element i from Philox block offset + i: the same numbers as the CPU (tensor/philox.h).
void random(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal) {
  visit_floating(dst.dtype(), [&](auto z) { random_t<decltype(z)>(dst, seed, offset, normal); });
}

void arange(const Tensor& dst, double begin) {
  visit_all(dst.dtype(), [&](auto z) { arange_t<decltype(z)>(dst, begin); });
}

// Contiguous, same dtype, one side on the host. A copy to the host waits for it (the caller
// reads the bytes next), then raises an index a kernel found out of range (cuda/indices.cuh);
// a copy to the device is queued on the stream.
void copy_host_device(const Tensor& src, const Tensor& dst) {
  const size_t n = size_t(src.numel()) * dtype_size(src.dtype());
  const bool to_host = dst.device() == Device::CPU;
  MB_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n,
                                to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice, stream()));
  // From pageable host memory the call returns once the source is staged, so the host buffer
  // may go at once; only the host side of a copy back must wait for the bytes.
  if (to_host) {
    MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
    raise_bad_index();
  }
}

}  // namespace mb::cuda
