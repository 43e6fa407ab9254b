// The one thread pool: OpenMP. Every parallel loop in the CPU backend goes through here so
// that the thread count is set in one place (OMP_NUM_THREADS or set_num_threads).
#pragma once
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

void set_num_threads(int n);  // also sizes Eigen's GEMM pool (the same OpenMP threads)
int num_threads();

// Runs f(begin_i, end_i) over [begin, end) split into contiguous static chunks, one per
// thread. Work below `min_per_thread` items per thread stays on the calling thread, where
// the fork/join would cost more than it saves. Static chunks keep results independent of
// scheduling: a given item is always computed the same way.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t min_per_thread, F&& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
#ifdef _OPENMP
  const int64_t max_t = min_per_thread > 0 ? (n + min_per_thread - 1) / min_per_thread : n;
  const int threads = int(max_t < omp_get_max_threads() ? max_t : omp_get_max_threads());
  if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t lo = begin + n * t / nt, hi = begin + n * (t + 1) / nt;
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  f(begin, end);
}

// Runs f(t, nt) on nt = min(threads, the pool's size) threads at once, t = 0 … nt − 1: for work
// in phases that wait for each other with barrier(). Inside another parallel region, f(0, 1)
// runs on the calling thread.
template <class F>
void parallel_region(int threads, F&& f) {
#ifdef _OPENMP
  if (threads > 1 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads < omp_get_max_threads() ? threads : omp_get_max_threads())
    f(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  f(0, 1);
}
// Every thread of the current parallel_region waits here for the others.
inline void barrier() {
#ifdef _OPENMP
#pragma omp barrier
#endif
}

}  // namespace mb
