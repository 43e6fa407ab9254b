// The emulator's profiler (emu_profile.h): the sanitizer-coverage callbacks, the grouping of
// accesses into warp requests, and the table. Compiled without the instrumentation it serves.
#include "emu_profile.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace emu::prof {
namespace {

struct Access {
  uintptr_t addr;
  uint32_t bytes;
  bool store;
};
struct Counts {
  long long launches = 0, g_requests = 0, g_bytes = 0, g_sectors = 0, g_ideal = 0, g_once = 0, s_requests = 0,
            s_wavefronts = 0, s_phases = 0, mma = 0;
};
// A device allocation, and which of its 32-byte sectors this launch has read and written
// (g_once counts each sector once per launch and direction: the DRAM traffic if the caches held
// the launch's footprint, a read fetching a sector once and a write writing it back once).
struct Allocation {
  size_t bytes;
  std::vector<bool> read, written;  // by sector from the one holding its first byte; sized at first use
  bool listed = false;              // in `touched` below
};

const char* const mode = std::getenv("MB_EMU_PROFILE");
const bool enabled = mode && std::strcmp(mode, "0") != 0;
const bool per_launch = enabled && std::strcmp(mode, "launches") == 0;  // also a line per launch
std::map<std::string, Counts> table;  // by kernel, in name order
Counts* now = nullptr;
Counts at_start;                 // *now when this launch began (for the line per launch)
std::string now_name;
std::map<uintptr_t, Allocation> device;  // device allocations by start
std::vector<Allocation*> touched;        // the allocations this launch touched
std::vector<std::pair<uintptr_t, size_t>> shared;  // static __shared__ arrays: start, bytes
std::pair<uintptr_t, size_t> dynamic{0, 0};          // this launch's dynamic shared memory
std::vector<std::vector<Access>> global_of, shared_of;  // per thread of the block, in order
int thread = -1;  // the thread running, -1 between threads

bool inside(uintptr_t a, uintptr_t start, size_t n) { return a >= start && a < start + n; }
std::map<uintptr_t, Allocation>::iterator allocation_of(uintptr_t a) {
  auto it = device.upper_bound(a);
  if (it == device.begin()) return device.end();
  --it;
  return inside(a, it->first, it->second.bytes) ? it : device.end();
}
bool is_global(uintptr_t a) { return allocation_of(a) != device.end(); }
// Counts the sectors of an access that this launch has not touched before.
void count_once(const Access& a) {
  const auto it = allocation_of(a.addr);
  if (it == device.end()) return;
  Allocation& al = it->second;
  if (al.read.empty()) al.read.resize(al.bytes / 32 + 2), al.written.resize(al.bytes / 32 + 2);
  std::vector<bool>& seen = a.store ? al.written : al.read;
  const uintptr_t base = it->first / 32;
  for (uintptr_t s = a.addr / 32; s <= (a.addr + a.bytes - 1) / 32; ++s) {
    if (seen[s - base]) continue;
    seen[s - base] = true;
    ++now->g_once;
  }
  if (!al.listed) touched.push_back(&al), al.listed = true;
}
bool is_shared(uintptr_t a) {
  if (inside(a, dynamic.first, dynamic.second)) return true;
  for (const auto& [start, n] : shared)
    if (inside(a, start, n)) return true;
  return false;
}
void record(const void* p, size_t bytes, bool store) {
  if (!enabled || thread < 0) return;
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (is_shared(a)) shared_of[size_t(thread)].push_back({a, uint32_t(bytes), store});
  else if (is_global(a)) global_of[size_t(thread)].push_back({a, uint32_t(bytes), store});
}

// the k-th access of each lane of warp [lo, hi) that has one
std::vector<Access> request(const std::vector<std::vector<Access>>& of, int lo, int hi, size_t k) {
  std::vector<Access> r;
  for (int t = lo; t < hi; ++t)
    if (k < of[size_t(t)].size()) r.push_back(of[size_t(t)][k]);
  return r;
}
size_t longest(const std::vector<std::vector<Access>>& of, int lo, int hi) {
  size_t n = 0;
  for (int t = lo; t < hi; ++t) n = std::max(n, of[size_t(t)].size());
  return n;
}
// A request's sectors, and the fewest that could hold the distinct bytes it asks for (lanes
// that read the same bytes share them: a broadcast costs nothing extra)
void count_global(std::vector<Access> r) {
  std::set<uintptr_t> sectors;
  for (const Access& a : r) {
    for (uintptr_t s = a.addr / 32; s <= (a.addr + a.bytes - 1) / 32; ++s) sectors.insert(s);
    now->g_bytes += a.bytes;
    count_once(a);
  }
  std::sort(r.begin(), r.end(), [](const Access& a, const Access& b) { return a.addr < b.addr; });
  uintptr_t distinct = 0, end = 0;
  for (const Access& a : r) {
    const uintptr_t lo = std::max(a.addr, end), hi = a.addr + a.bytes;
    if (hi > lo) distinct += hi - lo;
    end = std::max(end, hi);
  }
  ++now->g_requests;
  now->g_sectors += (long long)sectors.size();
  now->g_ideal += (long long)((distinct + 31) / 32);
}
// lanes per phase: 32 for accesses of 4 bytes or less, 16 for 8, 8 for 16
void count_shared(const std::vector<Access>& r) {
  const size_t per_phase = r[0].bytes <= 4 ? 32 : 128 / r[0].bytes;
  for (size_t p = 0; p < r.size(); p += per_phase) {
    std::map<uintptr_t, std::set<uintptr_t>> words;  // bank -> distinct words
    for (size_t i = p; i < std::min(r.size(), p + per_phase); ++i)
      for (uintptr_t w = r[i].addr / 4; w <= (r[i].addr + r[i].bytes - 1) / 4; ++w) words[w % 32].insert(w);
    size_t most = 0;
    for (const auto& [bank, ws] : words) most = std::max(most, ws.size());
    now->s_wavefronts += (long long)most;
    ++now->s_phases;
  }
  ++now->s_requests;
}

// The line of the launch that has just ended (MB_EMU_PROFILE=launches): what it asked for and
// the bytes of the distinct sectors it touched.
void launch_line() {
  if (!per_launch || !now) return;
  std::fprintf(stderr, "MB_EMU_LAUNCH %s bytes %lld once %lld\n", now_name.c_str(), now->g_bytes - at_start.g_bytes,
               32 * (now->g_once - at_start.g_once));
}

void report() {
  launch_line();
  if (table.empty()) return;
  std::fprintf(stderr, "\nMB_EMU_PROFILE: per kernel, what the emulated threads moved (cuda/emu/emu_profile.h)\n");
  std::fprintf(stderr, "%-20s %8s %10s %12s %10s %12s %9s %10s %10s %9s\n", "kernel", "launches", "global req",
               "bytes", "sectors", "once bytes", "sect/req", "coalesced", "shared req", "wave/req");
  for (const auto& [name, c] : table) {
    const double sect = c.g_requests ? double(c.g_sectors) / double(c.g_requests) : 0;
    const double eff = c.g_sectors ? double(c.g_ideal) / double(c.g_sectors) : 0;
    const double wave = c.s_requests ? double(c.s_wavefronts) / double(c.s_requests) : 0;
    std::fprintf(stderr, "%-20.20s %8lld %10lld %12lld %10lld %12lld %9.2f %9.0f%% %10lld %9.2f", name.c_str(),
                 c.launches, c.g_requests, c.g_bytes, c.g_sectors, 32 * c.g_once, sect, 100 * eff, c.s_requests, wave);
    if (c.s_phases) std::fprintf(stderr, " (%lld conflict wavefronts)", c.s_wavefronts - c.s_phases);
    if (c.mma) std::fprintf(stderr, " | %lld mma.sync = %.3g FLOP", c.mma, 4096.0 * double(c.mma));
    std::fprintf(stderr, "\n");
  }
}

}  // namespace

void launch(const char* kernel, const void* dyn_smem, size_t dyn_bytes) {
  if (!enabled) return;
  static const bool at_exit = (std::atexit(report), true);
  (void)at_exit;
  launch_line();
  for (Allocation* a : touched) {
    std::fill(a->read.begin(), a->read.end(), false);
    std::fill(a->written.begin(), a->written.end(), false);
    a->listed = false;
  }
  touched.clear();
  now = &table[kernel];
  now_name = kernel;
  at_start = *now;
  ++now->launches;
  dynamic = {reinterpret_cast<uintptr_t>(dyn_smem), dyn_smem ? dyn_bytes : 0};
}
void thread_enter(int t) {
  if (!enabled) return;
  if (global_of.size() <= size_t(t)) {
    global_of.resize(size_t(t) + 1);
    shared_of.resize(size_t(t) + 1);
  }
  thread = t;
}
void thread_leave() { thread = -1; }
void block_done(int threads) {
  if (!enabled || !now) return;
  for (int lo = 0; lo < threads; lo += 32) {
    const int hi = std::min(threads, lo + 32);
    for (size_t k = 0, n = longest(global_of, lo, hi); k < n; ++k) count_global(request(global_of, lo, hi, k));
    for (size_t k = 0, n = longest(shared_of, lo, hi); k < n; ++k) count_shared(request(shared_of, lo, hi, k));
  }
  for (auto& v : global_of) v.clear();
  for (auto& v : shared_of) v.clear();
}
void mma() {
  if (enabled && now) ++now->mma;
}
void access(const void* p, size_t bytes, bool store) { record(p, bytes, store); }
void shared_region(const void* p, size_t bytes) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (const auto& [start, n] : shared)
    if (start == a) return;
  shared.push_back({a, bytes});
}
void device_alloc(const void* p, size_t bytes) { device[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, {}, {}, false}; }
void device_free(const void* p) {
  const auto it = device.find(reinterpret_cast<uintptr_t>(p));
  if (it == device.end()) return;
  touched.erase(std::remove(touched.begin(), touched.end(), &it->second), touched.end());
  device.erase(it);
}

}  // namespace emu::prof

// clang's -fsanitize-coverage=trace-loads,trace-stores calls these with every address loaded
// or stored by the instrumented code; inline-8bit-counters (which trace-loads needs beside it)
// calls the init, which has nothing to do here.
extern "C" {
void __sanitizer_cov_8bit_counters_init(char*, char*) {}
void __sanitizer_cov_pcs_init(const uintptr_t*, const uintptr_t*) {}
#define EMU_PROF_CALLBACKS(n, T)                                                     \
  void __sanitizer_cov_load##n(T* p) { emu::prof::access(p, n, false); }           \
  void __sanitizer_cov_store##n(T* p) { emu::prof::access(p, n, true); }
EMU_PROF_CALLBACKS(1, uint8_t)
EMU_PROF_CALLBACKS(2, uint16_t)
EMU_PROF_CALLBACKS(4, uint32_t)
EMU_PROF_CALLBACKS(8, uint64_t)
EMU_PROF_CALLBACKS(16, __int128)
#undef EMU_PROF_CALLBACKS
}
