#include "nn/step.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "autograd/node.h"
#include "tensor/cpu/dot.h"
#include "tensor/cpu/eigen.h"
#include "tensor/cpu/row_bodies.h"
#include "tensor/elementwise_ops.h"
#include "tensor/parallel.h"

namespace mb::nn {

namespace {

template <class T> using Vec = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T> using CVec = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <class T> using CRowMajor = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// f32 (decoding) or f64 (the tests' models), on the CPU, contiguous, in the dtype of x
bool plain(const Tensor& t, DType dt) { return t.device() == Device::CPU && t.dtype() == dt && t.is_contiguous(); }
bool plain(const Linear& l, DType dt) {
  return l.matmul_dtype == DType::F32 && plain(l.weight, dt) && (!l.bias.defined() || plain(l.bias, dt)) &&
         (!l.weight_bf16.defined() || (dt == DType::F32 && plain(l.weight_bf16, DType::BF16) &&
                                       l.weight_bf16.shape() == l.weight.shape()));
}
bool plain(const LayerNorm& n, DType dt) { return plain(n.weight, dt) && plain(n.bias, dt); }
template <class T> const T* ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// out[r] (+)= W[r]·x for rows [lo, hi) of l's weight (out, K): f64, f32, or its bf16 copy
void dot_rows(const Linear& l, const float* x, int64_t lo, int64_t hi, float* out, bool add) {
  const int64_t K = l.weight.size(1);
  if (l.weight_bf16.defined()) cpu::dot_rows(x, l.weight_bf16.data<bf16>() + lo * K, K, K, hi - lo, out + lo, add);
  else cpu::dot_rows(x, l.weight.data<float>() + lo * K, K, K, hi - lo, out + lo, add);
}
void dot_rows(const Linear& l, const double* x, int64_t lo, int64_t hi, double* out, bool add) {
  const int64_t K = l.weight.size(1);
  const CRowMajor<double> w(l.weight.data<double>() + lo * K, hi - lo, K);
  if (add) Vec<double>(out + lo, hi - lo).noalias() += w * CVec<double>(x, K);
  else Vec<double>(out + lo, hi - lo).noalias() = w * CVec<double>(x, K);
}

// [lo, hi): thread t's contiguous share of n items among nt, on multiples of 4 (dot4's rows)
std::pair<int64_t, int64_t> share(int64_t n, int t, int nt) {
  const int64_t quads = (n + 3) / 4;
  return {std::min(n, quads * t / nt * 4), std::min(n, quads * (t + 1) / nt * 4)};
}

enum class Out { store, relu, add };

// rows [lo, hi) of y = W x + b (W: (out, in)), stored, stored through ReLU, or added to y
template <class T>
void product(const Linear& l, const T* x, std::pair<int64_t, int64_t> rows, T* y, Out out) {
  const auto [lo, hi] = rows;
  dot_rows(l, x, lo, hi, y, out == Out::add);
  if (const T* b = ptr<T>(l.bias))
    for (int64_t r = lo; r < hi; ++r) y[r] += b[r];
  if (out == Out::relu)
    for (int64_t r = lo; r < hi; ++r) y[r] = unary_fwd<UnaryOp::relu>(y[r], T(0));
}

// y (d) = LayerNorm(x), as the CPU kernel computes it
template <class T>
void layer_norm(const LayerNorm& n, const T* x, int64_t d, T* y) {
  cpu::layer_norm_row(x, ptr<T>(n.weight), ptr<T>(n.bias), d, T(n.eps), y);
}

// The shared state of one step: the residual stream and the products all threads read. Eigen's
// vectors, aligned alike on every run: Eigen's sums and exp take scalar steps up to the first
// aligned element, so a buffer's alignment would change the bits.
template <class T>
struct Shared {
  using V = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  V x, qkv, att, hidden;
};

// The step's barrier: a block has five, a few microseconds apart. OpenMP's barrier sleeps in
// the kernel under OMP_WAIT_POLICY=PASSIVE (what our scripts set), and waking costs more than
// the phases; this one spins, for at most 50 µs before it yields the core (a thread of ours
// waiting for a core held by another process must not keep the core from it).
class Barrier {
 public:
  void wait(int team) {  // team: the threads that take part
    const int gen = gen_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == team - 1) {  // the last in opens it
      arrived_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_release);
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (int spins = 0; gen_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins < 64 || std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(50)) pause();
      else std::this_thread::yield();
    }
  }

 private:
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::atomic<int> arrived_{0}, gen_{0};
};

// Block b at position `at` (its cache holds positions < at, with room for `at`), thread t of nt:
// x = x + attn(ln1(x)); x = x + mlp(ln2(x)). y and scores are the thread's own.
template <class T>
void block_step(const Block& b, KVCache& c, int64_t at, Shared<T>& sh, Barrier& bar, T* y, T* scores, int t, int nt) {
  const CausalSelfAttention& a = b.attn;
  const int64_t d = sh.x.size(), h = a.heads, dh = d / h, cap = c.k.size(2);
  layer_norm(b.ln1, sh.x.data(), d, y);
  product(a.qkv, y, share(3 * d, t, nt), sh.qkv.data(), Out::store);
  bar.wait(nt);
  const int64_t j0 = h * t / nt, j1 = h * (t + 1) / nt;  // this thread's heads
  for (int64_t j = j0; j < j1; ++j) {
    T* K = c.k.data<T>() + j * cap * dh;
    T* V = c.v.data<T>() + j * cap * dh;
    std::copy_n(sh.qkv.data() + d + j * dh, dh, K + at * dh);
    std::copy_n(sh.qkv.data() + 2 * d + j * dh, dh, V + at * dh);
    cpu::attend_row(sh.qkv.data() + j * dh, K, dh, V, dh, at + 1, dh, T(1.0 / std::sqrt(double(dh))), scores,
                    sh.att.data() + j * dh);
  }
  bar.wait(nt);
  product(a.proj, sh.att.data(), share(d, t, nt), sh.x.data(), Out::add);
  bar.wait(nt);
  layer_norm(b.ln2, sh.x.data(), d, y);
  const bool relu = b.mlp.act == Activation::relu;
  const auto rows = share(4 * d, t, nt);
  product(b.mlp.fc1, y, rows, sh.hidden.data(), relu ? Out::relu : Out::store);
  if (!relu)
    for (int64_t r = rows.first; r < rows.second; ++r) sh.hidden[r] = unary_fwd<UnaryOp::gelu>(sh.hidden[r], T(0));
  bar.wait(nt);
  product(b.mlp.fc2, sh.hidden.data(), share(d, t, nt), sh.x.data(), Out::add);
  bar.wait(nt);
}

}  // namespace

bool one_position_fits(const Transformer& t, const Tensor& x, const std::vector<KVCache>& caches) {
  const DType dt = x.dtype();
  if (grad_enabled() || (dt != DType::F32 && dt != DType::F64) || !plain(x, dt)) return false;
  if (x.dim() != 3 || x.size(0) != 1 || x.size(1) != 1) return false;
  if (t.stream_dtype != DType::F32 || !plain(t.ln_f, dt) || caches.size() != t.blocks.size()) return false;
  for (size_t i = 0; i < t.blocks.size(); ++i) {
    const Block& b = *t.blocks[i];
    const KVCache& c = caches[i];
    if (b.attn.prefix != 0 || !plain(b.ln1, dt) || !plain(b.ln2, dt) || !plain(b.attn.qkv, dt) ||
        !plain(b.attn.proj, dt) || !plain(b.mlp.fc1, dt) || !plain(b.mlp.fc2, dt))
      return false;
    if (!c.k.defined() || !plain(c.k, dt) || !plain(c.v, dt) || c.k.size(0) != 1 || c.len >= c.k.size(2)) return false;
  }
  return x.size(2) == t.ln_f.weight.size(0);
}

namespace {

template <class T>
Tensor step(const Transformer& t, const Tensor& x, std::vector<KVCache>& caches) {
  const int64_t d = x.size(2);
  const T* x0 = x.data<T>();
  Shared<T> sh{CVec<T>(x0, d), typename Shared<T>::V(3 * d), typename Shared<T>::V(d), typename Shared<T>::V(4 * d)};
  int64_t longest = 0;
  for (const KVCache& c : caches) longest = std::max(longest, c.len + 1);
  Tensor out = Tensor::empty({1, 1, d}, x.dtype());
  const int threads = in_serial_scope() ? 1 : num_threads();
  Barrier bar;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    ensure_float_mode();
#ifdef _OPENMP
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int tid = 0, nt = 1;
#endif
    typename Shared<T>::V y(d), scores(longest);  // the thread's own, aligned as Shared's
    for (size_t i = 0; i < t.blocks.size(); ++i)
      block_step(*t.blocks[i], caches[i], caches[i].len, sh, bar, y.data(), scores.data(), tid, nt);
    if (tid == 0) layer_norm(t.ln_f, sh.x.data(), d, out.data<T>());
  }
  for (KVCache& c : caches) ++c.len;
  return out;
}

}  // namespace

namespace {
int64_t bytes(const Tensor& x) { return x.defined() ? x.numel() * int64_t(dtype_size(x.dtype())) : 0; }
int64_t norm_bytes(const LayerNorm& n) { return bytes(n.weight) + bytes(n.bias); }
}  // namespace

int64_t block_bytes(const Block& b, int64_t cached) {
  auto linear = [](const Linear& l) { return bytes(l.weight_bf16.defined() ? l.weight_bf16 : l.weight) + bytes(l.bias); };
  return norm_bytes(b.ln1) + norm_bytes(b.ln2) + linear(b.attn.qkv) + linear(b.attn.proj) + linear(b.mlp.fc1) +
         linear(b.mlp.fc2) + 2 * (cached + 1) * bytes(b.ln1.weight);  // a key and a value per position
}

int64_t one_position_bytes(const Transformer& t, int64_t cached) {
  int64_t total = norm_bytes(t.ln_f);
  for (const auto& b : t.blocks) total += block_bytes(*b, cached);
  return total;
}

Tensor one_position(const Transformer& t, const Tensor& x, std::vector<KVCache>& caches) {
  return x.dtype() == DType::F64 ? step<double>(t, x, caches) : step<float>(t, x, caches);
}

Tensor decode(const Transformer& t, const Tensor& x, std::vector<KVCache>& caches, int64_t capacity) {
  caches.resize(t.blocks.size());
  return one_position_fits(t, x, caches) ? one_position(t, x, caches) : t.forward_cached(x, caches, capacity);
}

}  // namespace mb::nn
