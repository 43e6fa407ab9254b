// racecheck for the emulator: its fibers told to ThreadSanitizer. Built with -fsanitize=thread
// (cuda/emu/CMakeLists.txt, MB_EMU_RACECHECK), every CUDA thread is a TSan fiber, and the only
// happens-before edges between them are the ones CUDA gives: a block barrier among the threads
// of a block, a warp collective among the lanes of a warp, and the launch (the host's work
// before it, the block before this one, the host's work after it). Switching fibers
// synchronises nothing (TSan's no_sync flag). So a write and another thread's read or write of
// the same address with no barrier between them is a data race TSan reports, naming both
// accesses, as compute-sanitizer's racecheck would. Blocks run one after another here and are
// ordered by these edges, so, as racecheck, this checks races inside a block.
//
// Without ThreadSanitizer everything here is nothing.
#pragma once
#include <cstdio>

namespace emu::race {

#if defined(__SANITIZE_THREAD__)
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
}
constexpr unsigned kNoSync = 1;  // __tsan_switch_to_fiber_no_sync
inline void* host = nullptr;     // the fiber of the thread that launches
inline void* new_fiber() { return __tsan_create_fiber(0); }
inline void to_fiber(void* f) { __tsan_switch_to_fiber(f, kNoSync); }
inline void to_host() { __tsan_switch_to_fiber(host, kNoSync); }
inline void at_launch() { host = __tsan_get_current_fiber(); }
// what a report calls the fiber: "thread (x,y,z) of block (x,y,z) of KERNEL"
inline void name(void* f, const char* kernel, unsigned tx, unsigned ty, unsigned tz, unsigned bx, unsigned by, unsigned bz) {
  char text[160];
  std::snprintf(text, sizeof text, "thread (%u,%u,%u) of block (%u,%u,%u) of %s", tx, ty, tz, bx, by, bz, kernel);
  __tsan_set_fiber_name(f, text);
}
// release: what this fiber did happens before what any later acquirer of `sync` does
inline void release(void* sync) { __tsan_release(sync); }
inline void acquire(void* sync) { __tsan_acquire(sync); }
// While one lives, the accesses of this fiber (or the host) are not the kernels': the
// emulator's own bookkeeping (fiber states, the scheduler's tables), which the fibers share.
struct Untracked {
  Untracked() { __tsan_ignore_thread_begin(); }
  ~Untracked() { __tsan_ignore_thread_end(); }
  Untracked(const Untracked&) = delete;
  Untracked& operator=(const Untracked&) = delete;
};
#else
inline void* new_fiber() { return nullptr; }
inline void to_fiber(void*) {}
inline void to_host() {}
inline void at_launch() {}
inline void name(void*, const char*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned) {}
inline void release(void*) {}
inline void acquire(void*) {}
struct Untracked {};
#endif

// The synchronisation objects: the edges of a block (the host to its threads, its threads to
// the host) and, by parity of their count, block barriers and each warp's collectives. With
// parity, a thread already past barrier k + 1 releases into the other object than the one a
// slow thread still acquires barrier k from.
inline char block_start, block_end, barrier[2];
inline char warp[32][2];  // (a block has at most 32 warps)

}  // namespace emu::race
