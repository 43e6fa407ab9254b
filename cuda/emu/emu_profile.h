#pragma once
// The emulator as a profiler (a build with EMU_PROFILE: scripts/emu_profile.sh). The emulated
// kernels are compiled with clang's -fsanitize-coverage=trace-loads,trace-stores, so that every
// load and store calls back here with its address and size (emu_profile.cpp, compiled without
// it). An access inside a device allocation is global memory, one inside the launch's shared
// memory is shared memory; everything else (a thread's registers, which live on its fiber's
// stack, and the emulator's own bookkeeping) is not counted.
//
// Threads run one at a time, not in lockstep, so a warp's instruction is rebuilt: the k-th
// global (or shared) access of each lane of a warp, since its block began, form one request,
// which is exact for code in which the lanes take the same path (a divergent branch shifts the
// pairing). Per request: global memory moves the distinct 32-byte sectors its addresses touch;
// the table also gives how coalesced it is (the fewest sectors that could hold the distinct
// bytes the request asks for, over the sectors it touches); shared memory takes one wavefront
// per phase (32 lanes for 4-byte accesses, 16 for 8, 8 for
// 16), plus one for every further distinct 4-byte word a phase needs from the same one of the
// 32 banks (a bank conflict; the same word is a broadcast). "once bytes" count each sector a
// launch reads once and each it writes once: the DRAM traffic if the caches held the launch's footprint, right for
// the streaming kernels (elementwise, LayerNorm, AdamW), which read and write each byte once, an
// underestimate where a launch re-reads more than the L2 holds. With MB_EMU_PROFILE=1 the table
// of every kernel is printed to stderr at exit; MB_EMU_PROFILE=launches adds a line per launch.
#include <cstddef>

namespace emu::prof {
void launch(const char* kernel, const void* dyn_smem, size_t dyn_bytes);  // a launch begins
void thread_enter(int t);  // the scheduler hands the CPU to thread t of the block
void thread_leave();       // and takes it back
void block_done(int threads);  // the block's accesses, grouped into warp requests
void mma();  // one warp's mma.sync m16n8k16 (4096 FLOPs)
void access(const void* p, size_t bytes, bool store);  // one the compiler does not see (cp.async)
void shared_region(const void* p, size_t bytes);  // a static __shared__ array
void device_alloc(const void* p, size_t bytes);
void device_free(const void* p);
}  // namespace emu::prof
