// CUDA optimizer kernels: the squared norm of all the gradients (for clipping) and the fused
// AdamW update of all the parameters, the same arithmetic as tensor/cpu/optim.cpp. Each is one
// launch over a table of chunks (pieces of at most kChunk elements of the listed tensors), not
// one launch per tensor, and the norm is read back once: one host round trip per step, where
// a model has ~150 parameters.
#include <vector>

#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

constexpr int64_t kChunk = 1 << 16;
constexpr int kChunkThreads = 256;

// A piece of one parameter's tensors: p[0..3] = p, g, m, v (sum_squares uses p[0] only).
struct Chunk {
  void* p[4];
  int64_t n;
  int decay;
};

// The chunks of each entry of `lists` (entry i: up to four tensors of one shape), in order;
// copied to the device (the caller keeps the returned tensor alive until the kernel has run).
Tensor chunk_table(const std::vector<std::vector<const Tensor*>>& lists, const std::vector<int>& decay,
                   int64_t* count) {
  std::vector<Chunk> host;
  for (size_t i = 0; i < lists.size(); ++i) {
    const int64_t n = lists[i][0]->numel(), es = int64_t(dtype_size(lists[i][0]->dtype()));
    for (int64_t at = 0; at < n; at += kChunk) {
      Chunk c{{nullptr, nullptr, nullptr, nullptr}, std::min(kChunk, n - at), decay[i]};
      for (size_t k = 0; k < lists[i].size(); ++k) c.p[k] = static_cast<char*>(lists[i][k]->raw_data()) + at * es;
      host.push_back(c);
    }
  }
  *count = int64_t(host.size());
  const int64_t bytes = std::max<int64_t>(1, *count) * int64_t(sizeof(Chunk));
  Tensor table = Tensor::empty({bytes}, DType::U8, Device::CUDA);
  if (*count > 0)  // from pageable memory: returns once staged, so `host` may go
    MB_CUDA_CHECK(cudaMemcpyAsync(table.raw_data(), host.data(), size_t(bytes), cudaMemcpyHostToDevice, stream()));
  return table;
}

// partial[b] = Σ x² over chunk b, in a fixed order (a strided walk, then a shared tree)
template <class T> __global__ void sum_squares_kernel(const Chunk* chunks, double* partial) {
  __shared__ double s[kChunkThreads];
  const Chunk c = chunks[blockIdx.x];
  const T* x = static_cast<const T*>(c.p[0]);
  double acc = 0;
  for (int64_t i = threadIdx.x; i < c.n; i += blockDim.x) {
    const double v = double(load(x + i));
    acc += v * v;
  }
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kChunkThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}

// *total = Σ partial[0 .. n) in order (one thread: n is a few thousand at most)
__global__ void sum_in_order(const double* partial, int64_t n, double* total) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += partial[i];
  *total = s;
}

template <class T> __global__ void adamw_kernel(const Chunk* chunks, AdamWStep s) {
  using A = acc_t<T>;
  const Chunk c = chunks[blockIdx.x];
  T* p = static_cast<T*>(c.p[0]);
  const T* g = static_cast<const T*>(c.p[1]);
  T* m = static_cast<T*>(c.p[2]);
  T* v = static_cast<T*>(c.p[3]);
  const double wd = c.decay ? s.weight_decay : 0.0;
  const A decay = A(1 - s.lr * wd), scale = A(s.grad_scale), w1 = A(1 - s.beta1), b2 = A(s.beta2), w2 = A(1 - s.beta2),
          bc2s = A(s.bias_correction2_sqrt), eps = A(s.eps), step = A(s.lr / s.bias_correction1);
  for (int64_t i = threadIdx.x; i < c.n; i += blockDim.x) {
    const A gi = s.grad_scale != 1 ? load(g + i) * scale : load(g + i);
    const A pi = wd != 0 ? load(p + i) * decay : load(p + i);
    const A mi = load(m + i) + w1 * (gi - load(m + i));  // lerp towards g, as PyTorch
    const A vi = b2 * load(v + i) + w2 * gi * gi;
    store(m + i, mi);
    store(v + i, vi);
    store(p + i, pi - step * (mi / (sqrt_of(vi) / bc2s + eps)));
  }
}

// The one dtype of a list (the table's contract), checked
DType dtype_of_list(const std::vector<const Tensor*>& ts, const char* what) {
  for (const Tensor* t : ts)
    MB_CHECK(t->dtype() == ts[0]->dtype(), what, ": the list mixes ", dtype_name(ts[0]->dtype()), " and ",
             dtype_name(t->dtype()));
  return ts.empty() ? DType::F32 : ts[0]->dtype();
}

}  // namespace

double sum_squares(const std::vector<Tensor>& xs) {
  std::vector<const Tensor*> flat;
  std::vector<std::vector<const Tensor*>> lists;
  for (const Tensor& x : xs)
    if (x.numel() > 0) flat.push_back(&x), lists.push_back({&x});
  if (flat.empty()) return 0.0;
  const DType d = dtype_of_list(flat, "sum_squares");
  int64_t n = 0;
  const Tensor table = chunk_table(lists, std::vector<int>(lists.size(), 0), &n);
  const Tensor partial = Tensor::empty({n + 1}, DType::F64, Device::CUDA);  // n partials, then the total
  double* pp = ptr<double>(partial);
  visit_floating(d, [&](auto z) {
    sum_squares_kernel<decltype(z)><<<unsigned(n), kChunkThreads, 0, stream()>>>(ptr<Chunk>(table), pp);
    MB_CUDA_LAUNCH_CHECK();
  });
  sum_in_order<<<1, 1, 0, stream()>>>(pp, n, pp + n);
  MB_CUDA_LAUNCH_CHECK();
  double total = 0;
  MB_CUDA_CHECK(cudaMemcpyAsync(&total, pp + n, sizeof(double), cudaMemcpyDeviceToHost, stream()));
  MB_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return total;
}

void adamw(const std::vector<AdamWTensors>& ts, const AdamWStep& s) {
  std::vector<const Tensor*> flat;
  std::vector<std::vector<const Tensor*>> lists;
  std::vector<int> decay;
  for (const AdamWTensors& t : ts)
    if (t.p.numel() > 0) flat.push_back(&t.p), lists.push_back({&t.p, &t.g, &t.m, &t.v}), decay.push_back(t.decay);
  if (flat.empty()) return;
  const DType d = dtype_of_list(flat, "adamw");
  int64_t n = 0;
  const Tensor table = chunk_table(lists, decay, &n);
  visit_floating(d, [&](auto z) {
    adamw_kernel<decltype(z)><<<unsigned(n), kChunkThreads, 0, stream()>>>(ptr<Chunk>(table), s);
    MB_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace mb::cuda
