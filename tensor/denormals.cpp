#include "tensor/denormals.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {
namespace {

std::atomic<bool> flush_on{true};

// The thread's control register: FTZ (bit 15) and DAZ (bit 6) of the MXCSR on x86, FZ (bit 24)
// of the FPCR on AArch64; elsewhere nothing (subnormals are kept).
void set_thread_flush(bool on) {
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kFtzDaz = 0x8040;
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  constexpr unsigned long kFz = 1ul << 24;
  fpcr = on ? (fpcr | kFz) : (fpcr & ~kFz);
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#else
  (void)on;
#endif
}

// At load: the environment's choice, applied to the loading thread (usually main) before any
// pool thread exists, so the pool's threads start with it (a new thread inherits its
// creator's floating-point environment). No threads are started while the library loads.
[[maybe_unused]] const bool loaded = [] {
  const char* env = std::getenv("MB_DENORMALS");
  flush_on.store(!(env && std::strcmp(env, "keep") == 0));
  set_thread_flush(flush_on.load());
  return true;
}();

}  // namespace

namespace detail {
std::atomic<int> float_mode_generation{0};
void apply_float_mode(int) { set_thread_flush(flush_on.load(std::memory_order_relaxed)); }
}  // namespace detail

void set_flush_denormals(bool flush) {
  flush_on.store(flush);
  detail::float_mode_generation.fetch_add(1);
  ensure_float_mode();
#ifdef _OPENMP
  if (!omp_in_parallel()) {
#pragma omp parallel num_threads(omp_get_max_threads())
    ensure_float_mode();
  }
#endif
}

bool flush_denormals() { return flush_on.load(); }

}  // namespace mb
