// CPU memory kernels: allocation, strided copy with dtype conversion, fill, random, arange.
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"
#include "tensor/philox.h"

namespace mb::cpu {

// Blocks of 64 KiB and more are cached by size and handed out again: the same shapes recur
// every training step, and a fresh block from the OS costs a page fault per 4 KiB on first
// touch (more than the op that writes it). glibc's malloc maps such blocks afresh, or trims
// them from its heap, often enough that tiny's step took 640 faults without a cache below
// 1 MiB. Smaller blocks go straight to malloc, which bins them itself.
namespace {
constexpr size_t kCacheMin = size_t(64) << 10;
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
// the size class of a cached block: 16 KiB steps below 1 MiB, 64 KiB above
size_t size_class(size_t n) { return round_up(n, n < (size_t(1) << 20) ? size_t(16) << 10 : size_t(64) << 10); }

// MB_CPU_CACHE_MB caps the free blocks kept for reuse (default 1024 MiB; 0 turns caching off).
size_t cache_limit() {
  const char* v = std::getenv("MB_CPU_CACHE_MB");
  return (v ? size_t(std::strtoull(v, nullptr, 10)) : size_t(1024)) << 20;
}

struct BlockCache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;  // rounded size -> blocks
  std::unordered_map<void*, size_t> size_of;            // every cached-class block alive
  size_t cached = 0;
  size_t limit = cache_limit();                          // bytes held while free
  ~BlockCache() {
    for (auto& [sz, v] : free)
      for (void* p : v) std::free(p);
  }
};
BlockCache& cache() {
  static BlockCache c;
  return c;
}
}  // namespace

void* alloc(size_t nbytes) {
  const size_t rounded = nbytes < kCacheMin ? round_up(std::max<size_t>(nbytes, 1), 64) : size_class(nbytes);
  if (rounded >= kCacheMin) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free.find(rounded);
    if (it != c.free.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= rounded;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, rounded);
  MB_CHECK(p != nullptr, "out of memory: a tensor needs ", bytes_text(double(nbytes)), " on the CPU");
  if (rounded >= kCacheMin) {
    std::lock_guard<std::mutex> lock(cache().mu);
    cache().size_of[p] = rounded;
  }
  return p;
}

void free(void* p) {
  if (!p) return;
  BlockCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.size_of.find(p);
    if (it != c.size_of.end()) {
      if (c.cached + it->second <= c.limit) {
        c.free[it->second].push_back(p);
        c.cached += it->second;
        return;
      }
      c.size_of.erase(it);
    }
  }
  std::free(p);
}

void empty_cache() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [sz, v] : c.free)
    for (void* p : v) {
      c.size_of.erase(p);
      std::free(p);
    }
  c.free.clear();
  c.cached = 0;
}

size_t cached_bytes() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().cached;
}

void copy(const Tensor& src, const Tensor& dst) {
  visit_dtype(src.dtype(), [&](auto s) {
    visit_dtype(dst.dtype(), [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      for_each_row<2>(dst.shape(), {&dst, &src}, [](Ptrs<2> p, Steps<2> st, int64_t n) {
        if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
          D* y = reinterpret_cast<D*>(p[0]);
          const S* x = reinterpret_cast<const S*>(p[1]);
          for (int64_t j = 0; j < n; ++j) y[j] = cast_to<D>(x[j]);
        } else {
          for (int64_t j = 0; j < n; ++j)
            elem<D>(p[0], st[0], j) = cast_to<D>(elem<S>(p[1], st[1], j));
        }
      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    const T v = cast_to<T>(value);
    for_each_row<1>(dst.shape(), {&dst}, [v](Ptrs<1> p, Steps<1> st, int64_t n) {
      for (int64_t j = 0; j < n; ++j) elem<T>(p[0], st[0], j) = v;
    });
  });
}

void random(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    T* y = static_cast<T*>(dst.raw_data());
    parallel_for(0, dst.numel(), 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        y[i] = cast_to<T>(normal ? philox_normal(seed, offset + uint64_t(i))
                                 : philox_uniform(seed, offset + uint64_t(i)));
    });
  });
}

void arange(const Tensor& dst, double begin) {
  visit_dtype(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    T* y = static_cast<T*>(dst.raw_data());
    for (int64_t i = 0; i < dst.numel(); ++i) y[i] = cast_to<T>(begin + double(i));
  });
}

}  // namespace mb::cpu
