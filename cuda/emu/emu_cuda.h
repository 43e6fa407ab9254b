// CUDA on the CPU, for correctness only: one fiber per CUDA thread (a small x86-64 context
// switch, emu_switch.S), blocks one by one. __syncthreads is a block barrier and a warp
// collective (shuffle, __syncwarp, mma.sync, ldmatrix) a barrier of its warp.
//
// What a GPU (or compute-sanitizer) would catch, it reports, and the program sees it: a fault
// inside a kernel prints an EMU ERROR and makes every later synchronising call and
// cudaGetLastError return cudaErrorLaunchFailure (sticky, as on a GPU); a launch the driver
// would refuse prints why and returns its error from cudaGetLastError, and does not run.
//   - in a kernel: barrier divergence (a __syncthreads that some lanes of a warp skip by
//     exiting, or threads at different barriers: a deadlock); a warp collective whose mask names lanes
//     that exited, or whose lanes arrive at different collectives or with different masks;
//   - launches: block and grid sizes past the limits, more threads than the kernel's
//     __launch_bounds__ (transform.py makes that a check at the kernel's entry), dynamic shared
//     memory past 48 KB without cudaFuncSetAttribute, or past 227 KB;
//   - memory: shared memory (static and dynamic) holds NaN bytes at every block's start, so a
//     read of what no thread wrote poisons the result; cp.async copies land at the
//     cp_async_wait that covers them, and their destination holds NaN bytes until then;
//     device allocations are exactly the size asked for (the backend's caching allocator
//     marks its rounding), so that a build with AddressSanitizer (scripts/test_cuda_emu.sh)
//     names every access outside them.
// EMU_ORDER=0|1|2 runs the threads between barriers forward, backward or shuffled (a missing
// barrier then changes results).
#pragma once
#define EMU_CUDA 1
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <sanitizer/asan_interface.h>  // (its poisoning macros do nothing without AddressSanitizer)

#include "emu_racecheck.h"
#ifdef EMU_PROFILE
#include "emu_profile.h"  // what the kernels move, counted (scripts/emu_profile.sh)
#define EMU_PROF(call) emu::prof::call
#else
#define EMU_PROF(call) ((void)0)
#endif

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) alignas(n)
#define __launch_bounds__(...)
#define __restrict__

// ---- bf16 ----
struct __nv_bfloat16 {
  uint16_t x;
  __nv_bfloat16() = default;
  static uint16_t from_float(float f) {
    uint32_t u; std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
  __nv_bfloat16(float f) : x(from_float(f)) {}
  __nv_bfloat16(double f) : x(from_float(float(f))) {}
  __nv_bfloat16(int f) : x(from_float(float(f))) {}
  __nv_bfloat16(long f) : x(from_float(float(f))) {}
  __nv_bfloat16(long long f) : x(from_float(float(f))) {}
  __nv_bfloat16(unsigned f) : x(from_float(float(f))) {}
  __nv_bfloat16(unsigned long f) : x(from_float(float(f))) {}
  __nv_bfloat16(unsigned char f) : x(from_float(float(f))) {}
  __nv_bfloat16(short f) : x(from_float(float(f))) {}
  operator float() const { uint32_t u = uint32_t(x) << 16; float f; std::memcpy(&f, &u, 4); return f; }
};
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 b) { return float(b); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { __nv_bfloat16 b; b.x = u; return b; }

// ---- math ----
#define CUDART_INF_F __builtin_huge_valf()
#define CUDART_INF __builtin_huge_val()
#define CUDART_NAN_F __builtin_nanf("")
#define CUDART_NAN __builtin_nan("")
using std::fmax; using std::fmin; using std::sqrt; using std::exp; using std::log;
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
template <class T> inline T __ldg(const T* p) { return *p; }

namespace emu {
struct Fiber {
  void* sp = nullptr;
  std::vector<char> stack;  // (owned: freed with the fibers, so LeakSanitizer's exit check stays quiet)
  int state = 0;  // 0 runnable, 1 done, 2 block barrier, 3 warp collective
  int coll = 0;      // at a warp collective: which (Collective)
  unsigned mask = 0;  // and the lanes it names
  dim3 tid;
  unsigned long long slot = 0;
  void* tsan = nullptr;              // its ThreadSanitizer fiber (racecheck builds)
  int barriers = 0, collectives = 0;  // passed in this block (racecheck's parity)
};
extern "C" void emu_switch(void** save, void* to);
inline dim3 threadIdx, blockIdx, blockDim, gridDim;
inline void* sched_sp;
inline std::vector<Fiber> fibers;
// what the lanes of a warp hand in at mma.sync and ldmatrix (sized with the fibers, in whole warps)
struct MmaRegs { uint32_t a[4], b[2]; };
inline std::vector<MmaRegs> mma_regs;
inline std::vector<const void*> ldm_addr;
inline int cur;
inline const std::function<void()>* body;
inline unsigned char* dyn_smem_buf = nullptr;
inline size_t dyn_smem_size = 0;
inline int errors = 0;
inline long long nlaunch = 0;
inline const char* cur_kernel = "";
constexpr size_t kStack = 256 * 1024;

// The errors the program sees (the values are the runtime's)
enum Error { kOk = 0, kInvalidValue = 1, kInvalidConfiguration = 9, kOutOfResources = 701, kLaunchFailure = 719 };
inline int sticky = kOk;      // a fault inside a kernel: every later synchronising call returns it
inline int last_launch = kOk;  // a refused launch: the next cudaGetLastError returns it
// A fault inside a kernel (the launch goes on, as a GPU's does until the fault stops it)
inline void fail(const char* what) {
  ++errors;
  if (sticky == kOk) sticky = kLaunchFailure;
  std::fprintf(stderr, "EMU ERROR [%s] block (%u,%u,%u) thread %d: %s\n", cur_kernel, blockIdx.x, blockIdx.y,
               blockIdx.z, cur, what);
}
// A launch the driver refuses: it does not run
inline void refuse(int error, const char* what) {
  ++errors;
  last_launch = error;
  std::fprintf(stderr, "EMU ERROR [%s] launch refused: %s\n", cur_kernel, what);
}
[[noreturn]] inline void entry() {
  race::acquire(&race::block_start);
  try { (*body)(); } catch (...) { std::fprintf(stderr, "EMU: exception in kernel\n"); std::abort(); }
  race::release(&race::block_end);
  {
    race::Untracked u;
    fibers[size_t(cur)].state = 1;
  }
  race::to_host();
  emu_switch(&fibers[size_t(cur)].sp, sched_sp);
  std::abort();
}
inline void yield_to_sched(int st) {
  {
    race::Untracked u;
    fibers[size_t(cur)].state = st;
  }
  race::to_host();
  emu_switch(&fibers[size_t(cur)].sp, sched_sp);
}
// __syncthreads: what each thread did before it happens before what every thread does after
inline void block_barrier() {
  char* sync;
  {
    race::Untracked u;
    sync = &race::barrier[fibers[size_t(cur)].barriers++ % 2];
  }
  race::release(sync);
  yield_to_sched(2);
  race::acquire(sync);
}
// A warp collective: the lanes wait for each other; the scheduler checks that they all came to
// the same kind of collective with the same mask, and that the mask names no lane that exited.
enum Collective { kShuffle = 1, kSyncwarp, kMma, kLdmatrix };
inline const char* collective_name(int c) {
  return c == kShuffle ? "shuffle" : c == kSyncwarp ? "__syncwarp" : c == kMma ? "mma.sync" : "ldmatrix";
}
inline void arrive(Collective c, unsigned mask) {
  char* sync;
  {
    race::Untracked u;
    Fiber& f = fibers[size_t(cur)];
    f.coll = c;
    f.mask = mask;
    sync = &race::warp[cur / 32][f.collectives++ % 2];
  }
  race::release(sync);
  yield_to_sched(3);
  race::acquire(sync);
}
inline unsigned char* dyn_smem() { return dyn_smem_buf; }
constexpr unsigned char kPoison = 0xff;  // all bits set: a NaN in f32 and bf16

// Static __shared__ arrays: transform.py registers each where it is declared; all are poisoned
// at every block's start (the first time when they are registered, before any use).
struct Region { void* p; size_t n; };
inline std::vector<Region> shared_arrays;
inline void shared_array(void* p, size_t n) {
  race::Untracked u;
  for (const Region& r : shared_arrays)
    if (r.p == p) return;
  shared_arrays.push_back({p, n});
  EMU_PROF(shared_region(p, n));
  std::memset(p, kPoison, n);
}

// cp.async: each thread's copies in flight, by commit group; they land at the cp_async_wait
// that covers their group, and their destination holds poison until then.
struct Copy { void* dst; unsigned char bytes[16]; long long group; };
struct CopyQueue { std::vector<Copy> pending; long long committed = 0; };
inline std::vector<CopyQueue> copies;

// Per kernel: the dynamic shared memory cudaFuncSetAttribute allowed (default 48 KB)
inline std::vector<std::pair<const void*, int>> smem_allowed;
inline int smem_limit(const void* kernel) {
  for (const auto& [k, v] : smem_allowed)
    if (k == kernel) return v;
  return 48 * 1024;
}
template <class F> const void* kernel_id(F* f) { return reinterpret_cast<const void*>(f); }

// the checks a driver makes before a launch; false: refused (the reason printed)
inline bool launchable(const void* kernel, dim3 grid, dim3 block, size_t smem) {
  const long long nthr = (long long)block.x * block.y * block.z;
  if (nthr < 1 || nthr > 1024 || block.z > 64) return refuse(kInvalidConfiguration, "block size out of range"), false;
  if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535 || grid.x > 0x7fffffffu)
    return refuse(kInvalidConfiguration, "grid size out of range"), false;
  if (smem > 227 * 1024) return refuse(kInvalidValue, "dynamic shared memory past 227 KB"), false;
  if (smem > size_t(smem_limit(kernel)))
    return refuse(kInvalidValue, "dynamic shared memory past 48 KB without cudaFuncSetAttribute"), false;
  return true;
}

// Releases every warp whose live lanes all wait at a collective, after checking them; true if
// any was released.
inline bool release_warps(int n, int nwarps) {
  race::Untracked u;
  bool released = false;
  for (int w = 0; w < nwarps; ++w) {
    const int lo = w * 32, hi = std::min(n, lo + 32);
    int live = 0, waiting = 0, first = -1;
    for (int t = lo; t < hi; ++t) {
      const int s = fibers[size_t(t)].state;
      if (s != 1) ++live;
      if (s == 3) { ++waiting; if (first < 0) first = t; }
    }
    if (waiting == 0 || waiting != live) continue;
    const Fiber& f0 = fibers[size_t(first)];
    cur = first;
    char what[160];
    for (int t = lo; t < hi; ++t) {
      const Fiber& f = fibers[size_t(t)];
      if (f.state == 3 && (f.coll != f0.coll || f.mask != f0.mask)) {
        std::snprintf(what, sizeof what, "warp %d: lane %d at %s (mask %08x), lane %d at %s (mask %08x)", w, first - lo,
                      collective_name(f0.coll), f0.mask, t - lo, collective_name(f.coll), f.mask);
        fail(what);
        break;
      }
    }
    for (int lane = 0; lane < 32; ++lane)
      if ((f0.mask >> lane & 1u) && (lo + lane >= hi || fibers[size_t(lo + lane)].state == 1)) {
        std::snprintf(what, sizeof what, "warp %d: %s whose mask %08x names lane %d, which %s", w, collective_name(f0.coll),
                      f0.mask, lane, lo + lane >= hi ? "the block does not have" : "exited");
        fail(what);
        break;
      }
    for (int t = lo; t < hi; ++t)
      if (fibers[size_t(t)].state == 3) fibers[size_t(t)].state = 0;
    released = true;
  }
  return released;
}

// Runs the threads of one block until all have exited. False when they cannot go on (a
// deadlock): the launch is abandoned, as a GPU's would hang or fault.
inline bool run_block(int n) {
  race::Untracked u;
  static const int order_mode = std::getenv("EMU_ORDER") ? std::atoi(std::getenv("EMU_ORDER")) : 0;
  static unsigned long long rng = 0x9e3779b97f4a7c15ull;
  static std::vector<int> perm;
  const int nwarps = (n + 31) / 32;
  for (;;) {
    perm.resize(size_t(n));
    for (int t = 0; t < n; ++t) perm[size_t(t)] = order_mode == 1 ? n - 1 - t : t;
    if (order_mode == 2)
      for (int t = n - 1; t > 0; --t) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; std::swap(perm[size_t(t)], perm[size_t(rng % unsigned(t + 1))]); }
    for (int pi = 0; pi < n; ++pi) {
      const int t = perm[size_t(pi)];
      if (fibers[size_t(t)].state == 0) {
        cur = t;
        threadIdx = fibers[size_t(t)].tid;
        race::to_fiber(fibers[size_t(t)].tsan);
        EMU_PROF(thread_enter(t));
        emu_switch(&sched_sp, fibers[size_t(t)].sp);
        EMU_PROF(thread_leave());
      }
    }
    if (release_warps(n, nwarps)) continue;
    int live = 0, atbar = 0;
    for (int t = 0; t < n; ++t) { int s = fibers[size_t(t)].state; if (s != 1) ++live; if (s == 2) ++atbar; }
    if (live == 0) return true;
    if (atbar == live) {  // a block barrier: released; a warp split between it and exit is divergent (synccheck)
      for (int w = 0; w < nwarps; ++w) {
        int exited = 0, waiting = 0;
        for (int t = w * 32; t < std::min(n, w * 32 + 32); ++t) (fibers[size_t(t)].state == 1 ? exited : waiting)++;
        if (exited && waiting) { cur = w * 32; fail("divergent __syncthreads: lanes of this warp exited, the others wait at it"); }
      }
      for (int t = 0; t < n; ++t) if (fibers[size_t(t)].state == 2) fibers[size_t(t)].state = 0;
      continue;
    }
    cur = -1;
    fail("deadlock: threads wait at different barriers (divergent __syncthreads or warp collective)");
    return false;
  }
}

inline void run_launch(const void* kernel, dim3 grid, dim3 block, size_t smem, const std::function<void()>& f) {
  race::Untracked u;  // (the host's bookkeeping; the kernels' threads are tracked in their own fibers)
  static bool reg = (std::atexit([] { if (std::getenv("EMU_STATS")) std::fprintf(stderr, "EMU: %lld launches, %d errors\n", nlaunch, errors); }), true);
  (void)reg;
  if (!launchable(kernel, grid, block, smem)) return;
  ++nlaunch;
  race::at_launch();
  gridDim = grid; blockDim = block; body = &f;
  const int n = int((long long)block.x * block.y * block.z);
  if (fibers.size() < size_t(n)) {
    size_t old = fibers.size();
    fibers.resize(size_t(n));
    for (size_t i = old; i < fibers.size(); ++i) {
      fibers[i].stack.resize(kStack);
      fibers[i].tsan = race::new_fiber();
    }
  }
  if (copies.size() < fibers.size()) copies.resize(fibers.size());
  const size_t lanes = (fibers.size() + 31) / 32 * 32;  // whole warps: the collectives' tables
  if (mma_regs.size() < lanes) mma_regs.resize(lanes);
  if (ldm_addr.size() < lanes) ldm_addr.resize(lanes, nullptr);
  if (dyn_smem_size < smem) { std::free(dyn_smem_buf); dyn_smem_buf = static_cast<unsigned char*>(std::aligned_alloc(256, (smem + 255) / 256 * 256)); dyn_smem_size = smem; }
  EMU_PROF(launch(cur_kernel, dyn_smem_buf, smem));
  for (unsigned bz = 0; bz < grid.z; ++bz)
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      blockIdx = dim3(bx, by, bz);
      if (dyn_smem_buf) std::memset(dyn_smem_buf, kPoison, smem);
      for (const Region& r : shared_arrays) std::memset(r.p, kPoison, r.n);
      for (int t = 0; t < n; ++t) {
        Fiber& fb = fibers[size_t(t)];
        fb.state = 0;
        fb.tid = dim3(t % block.x, t / block.x % block.y, t / (block.x * block.y));
        uintptr_t top = (reinterpret_cast<uintptr_t>(fb.stack.data()) + kStack) & ~uintptr_t(15);
        void** sp = reinterpret_cast<void**>(top - 64);
        for (int i = 0; i < 6; ++i) sp[i] = nullptr;
        sp[6] = reinterpret_cast<void*>(&entry);
        sp[7] = nullptr;
        fb.sp = sp;
        fb.barriers = fb.collectives = 0;
        race::name(fb.tsan, cur_kernel, fb.tid.x, fb.tid.y, fb.tid.z, bx, by, bz);
        copies[size_t(t)] = CopyQueue{};
      }
      race::release(&race::block_start);  // the host's work, and the blocks before, happen before this one
      if (!run_block(n)) return;
      EMU_PROF(block_done(n));
      race::acquire(&race::block_end);
      if (errors > 20) { std::fprintf(stderr, "EMU: too many errors\n"); std::abort(); }
    }
}

template <class K, class... Args> void launch(const char* name, const void* kernel, dim3 grid, dim3 block, size_t smem, K k, Args... args) {
  cur_kernel = name;
  std::function<void()> f = [&] { k(args...); };
  run_launch(kernel, grid, block, smem, f);
}

// At a kernel's entry (transform.py puts it there from __launch_bounds__(max)): a block larger
// than the kernel was compiled for is a launch the driver refuses. Every thread returns at once.
inline bool within_launch_bounds(long long max_threads) {
  const long long nthr = (long long)blockDim.x * blockDim.y * blockDim.z;
  if (nthr <= max_threads) return true;
  if (cur == 0 && blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0) {
    char what[128];
    std::snprintf(what, sizeof what, "%lld threads per block, past the kernel's __launch_bounds__ of %lld", nthr, max_threads);
    refuse(kOutOfResources, what);
  }
  return false;
}
inline int ltid() { return int(threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y); }

template <class T> T shfl_impl(unsigned mask, T v, int src_lane_of(int lane, int arg), int arg, int width) {
  static_assert(sizeof(T) <= 8);
  const int t = ltid();
  unsigned long long raw = 0; std::memcpy(&raw, &v, sizeof(T));
  fibers[size_t(t)].slot = raw;
  arrive(kShuffle, mask);
  const int lane = t % 32;
  const int seg = lane / width * width;
  int src = src_lane_of(lane - seg, arg);
  T r = v;
  if (src >= 0 && src < width) {
    raw = fibers[size_t(t - lane + seg + src)].slot;
    std::memcpy(&r, &raw, sizeof(T));
  }
  arrive(kShuffle, mask);
  return r;
}

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (PTX ISA, "Matrix Fragments for
// mma.m16n8k16"): a barrier of the warp at which every lane hands in its fragments, then each
// computes its four elements of D from the lanes that hold the rows of A and columns of B they
// need, then a second barrier so that no lane reuses its slot before the others have read it.
// Lane 4g + t holds a = A[g][2t,2t+1], A[g+8][2t,2t+1], A[g][2t+8,2t+9], A[g+8][2t+8,2t+9];
// b = B[2t,2t+1][g], B[2t+8,2t+9][g]; d = C[g][2t,2t+1], C[g+8][2t,2t+1] (low half first).
inline float bf16_half(uint32_t r, int hi) {
  const uint32_t u = (hi ? r >> 16 : r & 0xffffu) << 16;
  float f; std::memcpy(&f, &u, 4); return f;
}
inline void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  const int t = ltid(), lane = t % 32, w0 = t - lane;
  std::memcpy(mma_regs[size_t(t)].a, a, sizeof a);
  std::memcpy(mma_regs[size_t(t)].b, b, sizeof b);
  arrive(kMma, ~0u);
  auto A = [&](int r, int k) { return bf16_half(mma_regs[size_t(w0 + r % 8 * 4 + k % 8 / 2)].a[(r >= 8) + 2 * (k >= 8)], k % 2); };
  auto B = [&](int k, int n) { return bf16_half(mma_regs[size_t(w0 + n * 4 + k % 8 / 2)].b[k >= 8], k % 2); };
  const int g = lane / 4, tg = lane % 4;
  if (lane == 0) EMU_PROF(mma());
  for (int e = 0; e < 4; ++e) {
    const int row = g + 8 * (e / 2), col = 2 * tg + e % 2;
    float s = d[e];
    for (int k = 0; k < 16; ++k) s += A(row, k) * B(k, col);  // bf16 products are exact in f32
    d[e] = s;
  }
  arrive(kMma, ~0u);
}

// ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16: every lane hands in a row address (lanes 0-7
// the rows of matrix 0, 8-15 those of matrix 1), then lane 4g + t takes rows 2t, 2t + 1 of
// column g of each matrix.
inline void ldmatrix_x2_trans(uint32_t (&r)[2], const void* addr) {
  const int t = ltid(), lane = t % 32, w0 = t - lane;
  if (reinterpret_cast<uintptr_t>(addr) % 16 != 0 && lane < 16) fail("ldmatrix: a row address not on 16 bytes");
  ldm_addr[size_t(t)] = addr;
  arrive(kLdmatrix, ~0u);
  for (int j = 0; j < 2; ++j) {
    const auto* r0 = static_cast<const uint16_t*>(ldm_addr[size_t(w0 + 8 * j + 2 * (lane % 4))]);
    const auto* r1 = static_cast<const uint16_t*>(ldm_addr[size_t(w0 + 8 * j + 2 * (lane % 4) + 1)]);
    if (!r0 || !r1) { r[j] = 0; continue; }  // lanes a partial warp lacks (reported at the collective)
    r[j] = uint32_t(r0[lane / 4]) | uint32_t(r1[lane / 4]) << 16;
  }
  arrive(kLdmatrix, ~0u);
}
// A block of device memory of which the caller uses the first `used` bytes (the caching
// allocator's rounding, a cached free block): under AddressSanitizer the rest is unaddressable,
// so that an access past a tensor is reported even inside its allocator's bin.
inline void device_block(void* p, size_t used, size_t capacity) {
  ASAN_UNPOISON_MEMORY_REGION(p, used);
  ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + used, capacity - used);
}

// cp.async.cg.shared.global, 16 bytes (cuda/mma.cuh): read now, landing in shared memory at the
// cp_async_wait that covers its group; its destination holds poison until then, so a read
// before the wait (or a copy issued over data other threads still read) shows.
inline void cp_async16(void* dst, const void* src, bool in) {
  CopyQueue& q = copies[size_t(ltid())];
  Copy c{dst, {}, q.committed};
  if (in) std::memcpy(c.bytes, src, 16);
  else std::memset(c.bytes, 0, 16);
  if (in) EMU_PROF(access(src, 16, false));  // (memcpy is not instrumented: the two sides of the copy)
  EMU_PROF(access(dst, 16, true));
  std::memset(dst, kPoison, 16);
  q.pending.push_back(c);
}
inline void cp_async_commit() { ++copies[size_t(ltid())].committed; }
// cp.async.wait_group n: every committed group but the newest n lands
inline void cp_async_wait(int n) {
  CopyQueue& q = copies[size_t(ltid())];
  const long long older = q.committed - n;
  std::vector<Copy> still;
  for (const Copy& c : q.pending) {
    if (c.group < older) std::memcpy(c.dst, c.bytes, 16);
    else still.push_back(c);
  }
  q.pending.swap(still);
}
}  // namespace emu

using emu::threadIdx; using emu::blockIdx; using emu::blockDim; using emu::gridDim;
inline void __syncthreads() { emu::block_barrier(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::arrive(emu::kSyncwarp, mask); }
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int m, int w = 32) {
  return emu::shfl_impl<T>(mask, v, [](int l, int a) { return l ^ a; }, m, w); }
template <class T> inline T __shfl_down_sync(unsigned mask, T v, int d, int w = 32) {
  return emu::shfl_impl<T>(mask, v, [](int l, int a) { return l + a; }, d, w); }
template <class T> inline T __shfl_up_sync(unsigned mask, T v, int d, int w = 32) {
  return emu::shfl_impl<T>(mask, v, [](int l, int a) { return l - a; }, d, w); }
template <class T> inline T __shfl_sync(unsigned mask, T v, int s, int w = 32) {
  return emu::shfl_impl<T>(mask, v, [](int, int a) { return a; }, s, w); }

// ---- runtime ----
enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2,
                   cudaErrorInvalidConfiguration = 9, cudaErrorLaunchOutOfResources = 701, cudaErrorLaunchFailure = 719 };
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice, cudaMemcpyDefault };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
#define cudaStreamNonBlocking 1
struct cudaDeviceProp { char name[256]; size_t totalGlobalMem; int multiProcessorCount; int major, minor; int l2CacheSize; };
enum cudaDeviceAttr { cudaDevAttrComputeCapabilityMajor = 75, cudaDevAttrL2CacheSize = 89 };
#ifdef EMU_PROFILE  // (clang) a vector type, so that a float4 moves as one 16-byte access, as on a GPU
typedef float float4 __attribute__((ext_vector_type(4)));
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
#else
struct __align__(16) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
#endif
// CUDA's global min/max overloads for device code
#define EMU_MINMAX(T) inline T min(T a, T b) { return a < b ? a : b; } inline T max(T a, T b) { return a < b ? b : a; }
EMU_MINMAX(int) EMU_MINMAX(unsigned) EMU_MINMAX(long long) EMU_MINMAX(unsigned long long) EMU_MINMAX(long)
#undef EMU_MINMAX
// A kernel's fault is sticky: every later synchronising call returns it. A refused launch is
// returned once, by the next cudaGetLastError (or the fault, if there was one).
namespace emu {
inline cudaError_t faulted() { return cudaError_t(sticky); }
inline cudaError_t last() { return cudaError_t(sticky != kOk ? sticky : last_launch); }
}  // namespace emu
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    default: return "cudaErrorLaunchFailure";
  }
}
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : "an error the emulator reported (EMU ERROR, above)"; }
inline cudaError_t cudaGetLastError() { const cudaError_t e = emu::last(); emu::last_launch = emu::kOk; return e; }
inline cudaError_t cudaPeekAtLastError() { return emu::last(); }
inline cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  *v = a == cudaDevAttrComputeCapabilityMajor ? 9 : 50 << 20; return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) { std::memset(p, 0, sizeof *p); std::strcpy(p->name, "Emulated GPU"); p->multiProcessorCount = 132; p->major = 9; return cudaSuccess; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { static char dummy; *s = reinterpret_cast<cudaStream_t>(&dummy); return cudaSuccess; }
inline cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return emu::faulted(); }
inline cudaError_t cudaDeviceSynchronize() { return emu::faulted(); }
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = reinterpret_cast<cudaEvent_t>(new double(0)); return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) { delete reinterpret_cast<double*>(e); return cudaSuccess; }
inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t = nullptr) { return cudaSuccess; }
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return emu::faulted(); }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) { *ms = 0; return cudaSuccess; }
inline cudaError_t cudaMalloc(void** p, size_t n) {
  if (posix_memalign(p, 256, n ? n : 1)) *p = nullptr;
  if (!*p) return cudaErrorMemoryAllocation;
  std::memset(*p, 0xff, n);  // uninitialised device memory: NaN-ish garbage
  EMU_PROF(device_alloc(*p, n));
  return cudaSuccess;
}
template <class T> inline cudaError_t cudaMalloc(T** p, size_t n) { return cudaMalloc(reinterpret_cast<void**>(p), n); }
inline cudaError_t cudaFree(void* p) { EMU_PROF(device_free(p)); std::free(p); return cudaSuccess; }
// pinned host memory mapped into the device's address space: the same bytes on both sides
#define cudaHostAllocMapped 2
inline cudaError_t cudaHostAlloc(void** p, size_t n, unsigned) { *p = std::malloc(n ? n : 1); return *p ? cudaSuccess : cudaErrorMemoryAllocation; }
inline cudaError_t cudaHostGetDevicePointer(void** d, void* h, unsigned) { *d = h; return cudaSuccess; }
inline cudaError_t cudaFreeHost(void* p) { std::free(p); return cudaSuccess; }
// (the threads of a launch run one at a time; atomic all the same, for racecheck's ThreadSanitizer)
inline int atomicCAS(int* p, int expected, int desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t = nullptr) { if (n) std::memmove(d, s, n); return emu::faulted(); }
inline cudaError_t cudaMemcpy(void* d, const void* s, size_t n, cudaMemcpyKind) { if (n) std::memmove(d, s, n); return emu::faulted(); }
inline cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t = nullptr) { std::memset(d, v, n); return emu::faulted(); }
inline cudaError_t cudaMemset(void* d, int v, size_t n) { std::memset(d, v, n); return emu::faulted(); }
template <class K> inline cudaError_t cudaFuncSetAttribute(K kernel, cudaFuncAttribute, int v) {
  if (v < 0 || v > 227 * 1024) return cudaErrorInvalidValue;
  const void* id = emu::kernel_id(kernel);
  for (auto& [k, limit] : emu::smem_allowed)
    if (k == id) return limit = v, cudaSuccess;
  emu::smem_allowed.push_back({id, v});
  return cudaSuccess;
}
