// Subnormal floats (|x| below 1.2e-38 in f32) cost 10-100x a normal operation on x86 CPUs
// (a microcode assist per instruction that reads or makes one; measured: a `tiny` training
// step 2-3x slower on an Intel Xeon). The CPU backend therefore runs with subnormals flushed
// to zero on every thread that computes: FTZ (results) and DAZ (inputs) on x86, FZ on ARM.
// Nothing a model computes needs them: a subnormal is 2^-126 below the values it is summed with.
//
// On by default. MB_DENORMALS=keep in the environment (read once, when the library loads) or
// set_flush_denormals(false) keep IEEE subnormals, for anyone who needs gradual underflow.
// Kernels also avoid making them where they would come in bulk (exp of masked scores:
// tensor/cpu/eigen.h's exp_ftz), so the speed does not depend on this switch.
#pragma once
#include <atomic>

namespace mb {

// Sets the mode on the calling thread and on every thread of the OpenMP pool.
void set_flush_denormals(bool flush);
bool flush_denormals();

// Applies the current mode to the calling thread if it has not seen it yet: the parallel
// loops call this on every thread they run, so a thread the pool adds later is covered too.
namespace detail {
extern std::atomic<int> float_mode_generation;
void apply_float_mode(int generation);
}  // namespace detail
inline void ensure_float_mode() {
  thread_local int seen = -1;
  const int g = detail::float_mode_generation.load(std::memory_order_relaxed);
  if (seen != g) {
    detail::apply_float_mode(g);
    seen = g;
  }
}

}  // namespace mb
