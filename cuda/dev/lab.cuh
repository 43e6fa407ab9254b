// What every kernel file of the lab shares: the error check, a device buffer, random inputs,
// the comparison with the CPU oracle, the timing (median of cudaEvent-timed repetitions), and
// the one table every version reports in.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace lab {

// ------------------------------------------------------------------ errors

inline void check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "CUDA error in %s at %s:%d: %s (%s)\n", call, file, line, cudaGetErrorString(e),
               cudaGetErrorName(e));
  std::exit(2);
}
// Wrap every CUDA runtime call: CUDA_CHECK(cudaMalloc(&p, bytes));
#define CUDA_CHECK(call) ::lab::check_cuda((call), #call, __FILE__, __LINE__)
// After a launch: a bad configuration (too many threads, too much shared memory) shows up here.
#define LAUNCH_CHECK() ::lab::check_cuda(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

inline unsigned ceil_div(long long a, long long b) { return unsigned((a + b - 1) / b); }

// ------------------------------------------------------------------ memory and inputs

// A float array on the device, freed when it goes out of scope.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { CUDA_CHECK(cudaMalloc(&p_, std::max<size_t>(n, 1) * sizeof(float))); }
  explicit DeviceBuffer(const std::vector<float>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  float* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<float>& host) {
    CUDA_CHECK(cudaMemcpy(p_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice));
  }
  std::vector<float> download() const {
    std::vector<float> host(n_);
    CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(float), cudaMemcpyDeviceToHost));
    return host;
  }
  // All bits set is a NaN: an element a kernel forgets to write fails the comparison.
  void poison() { CUDA_CHECK(cudaMemset(p_, 0xFF, n_ * sizeof(float))); }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

// n floats uniform in [lo, hi), the same for the same seed.
inline std::vector<float> random_vector(size_t n, uint64_t seed, float lo = -1, float hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// ------------------------------------------------------------------ comparison

// max over i of |got - want| / (1 + |want|): an absolute error for values below 1, a relative
// one above. Infinite if anything is NaN or the sizes differ.
inline double max_error(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return INFINITY;
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i])) / (1.0 + std::fabs(double(want[i])));
    if (std::isnan(d)) return INFINITY;
    e = std::max(e, d);
  }
  return e;
}

// ------------------------------------------------------------------ configuration and results

struct Config {
  int rows = 4096, cols = 1024;                         // softmax and layernorm
  int batch = 4, heads = 8, seq = 1024, head_dim = 64;  // attention
  int m = 2048, n = 2048, k = 2048;                     // gemm
  int reps = 20, warmup = 3;
  bool flush_l2 = true;  // write over the L2 cache before each timed run
  uint64_t seed = 1234;
};

enum class Status { OK, FAIL, SKIP };

struct Result {
  std::string kernel;
  int version = 0;
  std::string label;  // a few words: what this version does
  std::string shape;
  float ms = 0;        // median over the repetitions
  double rate = 0;     // GB/s or TFLOP/s
  const char* unit = "";
  double max_err = 0;  // see max_error
  double tol = 0;
  Status status = Status::OK;
  std::string note;  // why it was skipped
};

inline void print_header() {
  std::printf("%-10s %-3s %-30s %-20s %10s %14s %9s %7s  %s\n", "kernel", "v", "what", "shape", "median ms",
              "throughput", "max err", "tol", "result");
}

inline void print_row(const Result& r) {
  if (r.status == Status::SKIP) {
    std::printf("%-10s %-3d %-30s %-20s %10s %14s %9s %7s  SKIP (%s)\n", r.kernel.c_str(), r.version,
                r.label.c_str(), r.shape.c_str(), "-", "-", "-", "-", r.note.c_str());
  } else {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.2f %s", r.rate, r.unit);
    std::printf("%-10s %-3d %-30s %-20s %10.4f %14s %9.2e %7.0e  %s\n", r.kernel.c_str(), r.version,
                r.label.c_str(), r.shape.c_str(), r.ms, rate, r.max_err, r.tol,
                r.status == Status::OK ? "OK" : "FAIL");
  }
  std::fflush(stdout);
}

// ------------------------------------------------------------------ timing

// Writing a buffer twice the size of L2 evicts the previous run's data, so each timed run reads
// its inputs from device memory, as it would inside a model (the inputs here would otherwise fit
// in H100's 50 MB of L2 and the GB/s would be L2's, not HBM's).
class L2Flusher {
 public:
  L2Flusher() {
    int dev = 0, bytes = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, dev));
    bytes_ = size_t(bytes) * 2;
    if (bytes_ > 0) CUDA_CHECK(cudaMalloc(&p_, bytes_));
  }
  ~L2Flusher() { cudaFree(p_); }
  L2Flusher(const L2Flusher&) = delete;
  L2Flusher& operator=(const L2Flusher&) = delete;
  void flush() {
    if (p_) CUDA_CHECK(cudaMemsetAsync(p_, 0, bytes_));
  }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

// Median milliseconds of launch() over cfg.reps runs, after cfg.warmup untimed ones. Each run
// is bracketed by its own pair of events (the L2 flush sits outside them). The median, not the
// mean, so that one run disturbed by something else on the machine does not move the figure.
template <class Launch>
float median_ms(const Config& cfg, Launch&& launch) {
  for (int i = 0; i < cfg.warmup; ++i) launch();
  LAUNCH_CHECK();
  CUDA_CHECK(cudaDeviceSynchronize());
  L2Flusher l2;
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<float> ms;
  for (int i = 0; i < std::max(cfg.reps, 1); ++i) {
    if (cfg.flush_l2) l2.flush();
    CUDA_CHECK(cudaEventRecord(start));
    launch();
    CUDA_CHECK(cudaEventRecord(stop));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float t = 0;
    CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    ms.push_back(t);
  }
  LAUNCH_CHECK();
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// How the work of one run is counted: bytes that must cross the memory bus at least once
// (memory-bound kernels, reported in GB/s) or floating-point operations (TFLOP/s).
struct Work {
  double amount;
  bool flops;
};

// Runs one version: poisons the output, launches once, compares with the oracle, then times.
template <class Launch>
Result measure(const Config& cfg, Result r, DeviceBuffer& out, const std::vector<float>& want, Work work,
               Launch&& launch) {
  out.poison();
  launch();
  LAUNCH_CHECK();
  CUDA_CHECK(cudaDeviceSynchronize());
  r.max_err = max_error(out.download(), want);
  r.status = r.max_err <= r.tol ? Status::OK : Status::FAIL;
  r.ms = median_ms(cfg, launch);
  const double per_s = work.amount / (double(r.ms) * 1e-3);
  r.rate = work.flops ? per_s / 1e12 : per_s / 1e9;
  r.unit = work.flops ? "TFLOP/s" : "GB/s";
  return r;
}

inline Result skipped(Result r, std::string why) {
  r.status = Status::SKIP;
  r.note = std::move(why);
  return r;
}

// ------------------------------------------------------------------ kernel families

struct Version {
  const char* label;    // a few words, for the table
  const char* teaches;  // what this version improves over the previous one, and why
};

// One kernel family (one .cu file): its versions, and run(), which builds the inputs and the
// oracle's answer once and returns one Result per requested version (numbered from 1).
struct Family {
  const char* name;
  std::vector<Version> versions;
  std::vector<Result> (*run)(const std::vector<int>& versions, const Config& cfg);
};

// The row of version v of family f, filled in before it runs.
inline Result result_row(const Family& f, int v, std::string shape, double tol) {
  Result r;
  r.kernel = f.name;
  r.version = v;
  r.label = f.versions[size_t(v - 1)].label;
  r.shape = std::move(shape);
  r.tol = tol;
  return r;
}

const Family& softmax_family();
const Family& layernorm_family();
const Family& attention_family();
const Family& gemm_family();

}  // namespace lab
