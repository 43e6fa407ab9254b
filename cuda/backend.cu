// The CUDA backend's registration: when the process starts and a device is present, the table
// of CUDA kernels joins the dispatch (tensor/backend.h) and host <-> device copies go through
// this backend. Without a device nothing registers and using Device::CUDA is a clear error.
#include <cstdlib>
#include <string>

#include "cuda/kernels.h"
#include "cuda/runtime.h"
#include "cuda/common.cuh"
#include "cuda/indices.cuh"

namespace mb::cuda {

void copy_host_device(const Tensor& src, const Tensor& dst);  // memory.cu

void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  throw Error(cat("CUDA error in ", call, " at ", file, ":", line, ": ", cudaGetErrorName(e), " (",
                  cudaGetErrorString(e), ")"));
}

void after_launch(const char* function, const char* file, int line) {
  static const bool sync = [] {
    const char* v = std::getenv("MB_CUDA_SYNC");
    return v && std::string(v) != "0";
  }();
  check(cudaGetLastError(), cat("the kernel launch in ", function).c_str(), file, line);
  if (sync) {
    check(cudaStreamSynchronize(stream()), cat("the kernel launched by ", function, " (MB_CUDA_SYNC)").c_str(), file, line);
    raise_bad_index();
  }
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    MB_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: no GPU, and no sticky error
    return 0;
  }
  return n;
}

std::string device_name() {
  cudaDeviceProp prop{};
  MB_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return prop.name;
}

int compute_capability_major() {
  static const int major = [] {
    int dev = 0;
    MB_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    MB_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    return prop.major;
  }();
  return major;
}

void synchronize() {
  MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
  raise_bad_index();
}
std::string device_description() { return device_name(); }
size_t peak_memory() { return memory_stats().peak; }

Timer::Timer() {
  cudaEvent_t a, b;
  MB_CUDA_CHECK(cudaEventCreate(&a));
  MB_CUDA_CHECK(cudaEventCreate(&b));
  start_ = a;
  stop_ = b;
}
Timer::~Timer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}
void Timer::start() { MB_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream())); }
double Timer::stop_ms() {
  MB_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream()));
  MB_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  MB_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return double(ms);
}

namespace {
const Kernels& table() {
  static const Kernels k = kernel_table();
  return k;
}

[[maybe_unused]] const bool registered = [] {
  const int n = device_count();
  if (n == 0) return false;
  // MB_CUDA_DEVICE picks the GPU (a data-parallel rank sets it to its local rank: one GPU each)
  if (const char* d = std::getenv("MB_CUDA_DEVICE")) MB_CUDA_CHECK(cudaSetDevice(std::atoi(d) % n));
  register_backend(Device::CUDA, &table());
  register_cross_device_copy(copy_host_device);
  const char* tf = std::getenv("MB_TF32");
  set_tf32(tf && tf[0] == '1');
  return true;
}();
}  // namespace

}  // namespace mb::cuda
