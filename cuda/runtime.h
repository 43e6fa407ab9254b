// The CUDA backend's host interface (built when MB_CUDA is ON; define MB_HAVE_CUDA to use it).
// Tensors reach the GPU through the dispatch table (tensor/backend.h), which this backend
// fills when the process starts and a device is present: `to(t, Device::CUDA)`, ops on CUDA
// tensors, `to(t, Device::CPU)`. What is here is the rest: device queries, memory statistics,
// synchronisation, timing and math-mode switches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mb::cuda {

int device_count();        // 0 when there is no driver or no device
std::string device_name();  // of device 0, e.g. "NVIDIA H100 80GB HBM3"

// Waits for every queued kernel and copy.
void synchronize();

// The caching allocator's bytes: handed out to live tensors, held from the driver (in use plus
// cached free blocks), and the most ever in use.
struct MemoryStats {
  size_t in_use = 0, reserved = 0, peak = 0;
};
MemoryStats memory_stats();
void empty_cache();  // returns the cached free blocks to the driver

// f32 matmuls in TF32 on tensor cores (faster, ~1e-3 relative error); off by default.
// MB_TF32=1 in the environment turns it on at start.
void set_tf32(bool on);

// cuda/linear.cu's cache of cuBLASLt plans (descriptor, layouts, algorithm per GEMM shape,
// dtype, epilogue and alignment): plans made, calls served from the cache, plans refused
// (no algorithm: those calls take the composed path).
struct LinearPlanStats {
  int64_t plans = 0, hits = 0, refused = 0;
};
LinearPlanStats linear_plan_stats();

// One warp's tensor-core product through cuda/mma.cuh, for the test of its fragment layouts:
// d (16 x 8) = a (16 x 16) · b (16 x 8), row-major host arrays, a and b as bf16 bit patterns,
// d twice (256 floats): B's fragments gathered by hand, then read by ldmatrix.trans.
// Throws on a device without bf16 tensor cores (before sm_80).
void mma_m16n8k16(const uint16_t* a, const uint16_t* b, float* d);

// Elapsed GPU time between two points of the stream, in milliseconds (CUDA events).
class Timer {
 public:
  Timer();
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void start();
  double stop_ms();  // waits for the stream to reach the stop point

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace mb::cuda
