// The one thread pool: OpenMP. Every parallel loop in the CPU backend goes through here so
// that the thread count is set in one place (OMP_NUM_THREADS or set_num_threads).
#pragma once
#include <cstdint>

#include "tensor/denormals.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

void set_num_threads(int n);  // also sizes Eigen's GEMM pool (the same OpenMP threads)
int num_threads();

// While a SerialScope lives, parallel loops on its thread run on that thread alone. For work
// made of many ops of a few µs each (decoding one position): there a fork saves little, and on
// a machine where another process keeps the cores busy, each fork waits for a core to come
// free, which made generation 5x slower.
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool outer_;
};
bool in_serial_scope();

// Runs f(begin_i, end_i) over [begin, end) split into contiguous static chunks, one per
// thread. Work below `min_per_thread` items per thread stays on the calling thread, where
// the fork/join would cost more than it saves. Static chunks keep results independent of
// scheduling: a given item is always computed the same way. Every thread that runs a chunk
// runs it in the library's floating-point mode (tensor/denormals.h).
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t min_per_thread, F&& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  ensure_float_mode();
#ifdef _OPENMP
  const int64_t max_t = min_per_thread > 0 ? (n + min_per_thread - 1) / min_per_thread : n;
  const int threads = int(max_t < omp_get_max_threads() ? max_t : omp_get_max_threads());
  if (threads > 1 && !omp_in_parallel() && !in_serial_scope()) {
#pragma omp parallel num_threads(threads)
    {
      ensure_float_mode();
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t lo = begin + n * t / nt, hi = begin + n * (t + 1) / nt;
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  f(begin, end);
}

// Runs f(t, nt) once on each thread of a team of nt <= `threads` threads, all at once, so that
// they can meet at team_barrier(); f(0, 1) on the calling thread alone where parallel_for would
// not fork (one thread, inside another parallel loop, a SerialScope). Every member must reach
// the same barriers.
template <class F>
void parallel_team(int threads, F&& f) {
  ensure_float_mode();
#ifdef _OPENMP
  if (threads > 1 && omp_get_max_threads() > 1 && !omp_in_parallel() && !in_serial_scope()) {
#pragma omp parallel num_threads(threads < omp_get_max_threads() ? threads : omp_get_max_threads())
    {
      ensure_float_mode();
      f(omp_get_thread_num(), omp_get_num_threads());
    }
    return;
  }
#endif
  f(0, 1);
}

// Waits for every member of the parallel_team this thread runs in (only from inside one whose
// nt > 1: elsewhere it would bind to an enclosing loop's threads).
inline void team_barrier() {
#ifdef _OPENMP
#pragma omp barrier
#endif
}

}  // namespace mb
