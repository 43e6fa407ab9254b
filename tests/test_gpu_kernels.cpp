// The CUDA kernels against the CPU kernels through the dispatch tables directly, so that bf16
// and the edge cases of each kernel are reached: row widths on both sides of the warp/block
// switch, special values, every attention head width up to 256 and the KV-cache and packed
// layouts, both reduction paths, every GEMM layout, index dtypes, every copy dtype pair.
// Part of the gpu tests (test_gpu.cpp has the main and the skip without a device); written
// against the CUDA emulator (cuda/emu), where they all pass.
//
// The harness (ggml's test-backend-ops is the model): C() and G() are the CPU's and CUDA's
// dispatch tables with every entry counting its calls, generated from tensor/kernels.def. Each
// case names the kernels it compares (KERNEL_CASE) and fails unless each of them ran on both
// backends during it; the test "every kernel of tensor/kernels.def ..." fails for a kernel that
// no case names, so a kernel added to kernels.def without a comparison fails the suite.
#include <doctest/doctest.h>

#ifdef MB_HAVE_CUDA
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>
#include "autograd/ops.h"
#include "cuda/runtime.h"
#include "helpers.h"
#include "tensor/backend.h"
using namespace mb;
namespace harness {
enum Id : size_t {
#define MB_KERNEL(ret, name, params) k_##name,
#include "tensor/kernels.def"
#undef MB_KERNEL
  kCount
};
constexpr const char* kNames[] = {
#define MB_KERNEL(ret, name, params) #name,
#include "tensor/kernels.def"
#undef MB_KERNEL
};
int64_t calls[2][kCount] = {};  // [0: CPU, 1: CUDA][kernel]

// a dispatch-table entry that counts its calls, then calls the backend's function
template <int Side, size_t Id, class F> struct Counted;
template <int Side, size_t Id, class R, class... A> struct Counted<Side, Id, R (*)(A...)> {
  static inline R (*inner)(A...) = nullptr;
  static R call(A... a) {
    ++calls[Side][Id];
    return inner(std::forward<A>(a)...);
  }
};
template <int Side> Kernels counting(const Kernels& base) {
  Kernels k = base;
#define MB_KERNEL(ret, name, params)                                  \
  Counted<Side, k_##name, decltype(base.name)>::inner = base.name;  \
  k.name = &Counted<Side, k_##name, decltype(base.name)>::call;
#include "tensor/kernels.def"
#undef MB_KERNEL
  return k;
}

size_t id_of(const std::string& name) {
  for (size_t i = 0; i < kCount; ++i)
    if (name == kNames[i]) return i;
  return kCount;
}
std::vector<std::string> words(const char* list) {
  std::istringstream in(list);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}
// case title -> the kernels it compares (registered before main, so the coverage test sees all)
std::map<std::string, std::vector<std::string>>& claims() {
  static std::map<std::string, std::vector<std::string>> m;
  return m;
}
bool claim(const char* title, const char* list) {
  claims()[title] = words(list);
  return true;
}
// At the end of a case: each kernel it names ran on the CPU and on CUDA during it.
class Ran {
 public:
  explicit Ran(const char* list) : names_(words(list)) { std::memcpy(before_, calls, sizeof calls); }
  ~Ran() {
    for (const std::string& n : names_) {
      const size_t id = id_of(n);
      INFO("kernel ", n);
      if (id >= kCount) {
        FAIL_CHECK("not a kernel of tensor/kernels.def");
        continue;
      }
      CHECK_MESSAGE(calls[0][id] > before_[0][id], "did not run on the CPU in this case");
      CHECK_MESSAGE(calls[1][id] > before_[1][id], "did not run on CUDA in this case");
    }
  }
  Ran(const Ran&) = delete;
  Ran& operator=(const Ran&) = delete;

 private:
  std::vector<std::string> names_;
  int64_t before_[2][kCount];
};
}  // namespace harness

// KERNEL_CASE(title, "kernel kernel ...") { body }: a test case comparing those kernels
#define KERNEL_CASE_IMPL(f, title, list)                                        \
  static void f();                                                              \
  static const bool DOCTEST_CAT(f, _claimed) = harness::claim(title, list);     \
  TEST_CASE(title) {                                                            \
    const harness::Ran ran(list);                                               \
    f();                                                                        \
  }                                                                             \
  static void f()
#define KERNEL_CASE(title, list) KERNEL_CASE_IMPL(DOCTEST_ANONYMOUS(KERNEL_CASE_), title, list)

TEST_CASE("every kernel of tensor/kernels.def has a case comparing it on CUDA against the CPU") {
  for (const auto& [title, names] : harness::claims())
    for (const std::string& n : names) {
      INFO("case '", title, "' names ", n);
      CHECK(harness::id_of(n) < harness::kCount);
    }
  for (const char* n : harness::kNames) {
    bool named = false;
    for (const auto& [title, names] : harness::claims())
      named = named || std::find(names.begin(), names.end(), n) != names.end();
    INFO("kernel ", std::string(n));
    CHECK_MESSAGE(named, "no KERNEL_CASE compares it");
  }
}

namespace {
const Kernels& G() {
  static const Kernels k = harness::counting<1>(kernels(Device::CUDA));
  return k;
}
const Kernels& C() {
  static const Kernels k = harness::counting<0>(cpu_kernels());
  return k;
}
Tensor dev(const Tensor& t) { return to(t, Device::CUDA); }
Tensor host(const Tensor& t) { return to(t, Device::CPU); }
Tensor E(const Shape& s, DType d, Device v) { return Tensor::empty(s, d, v); }
#define CLOSE(WANT, GOT, tol) do { const mb::test::Diff d_ = mb::test::diff(WANT, GOT); \
  INFO("rel err ", d_.rel, " worst at ", d_.where, ": want ", d_.want, " got ", d_.got); \
  CHECK(d_.rel <= (tol)); } while (0)
double tol_of(DType d) { return d == DType::F64 ? 1e-12 : d == DType::F32 ? 2e-5 : 2e-2; }
// inputs for dtype d: values rounded to d, CPU reference computed in f32/f64
Tensor rnd(const Shape& s, uint64_t seed, DType d, double scale = 1) {
  return to(mul_scalar(Tensor::randn(s, seed, 0, DType::F64), scale), d);
}
DType cpu_dt(DType d) { return d == DType::BF16 ? DType::F32 : d; }
}  // namespace

KERNEL_CASE("rows: softmax, layer norm, cross-entropy over many widths", "softmax softmax_backward layer_norm layer_norm_backward cross_entropy cross_entropy_backward") {
  for (DType d : {DType::F32, DType::F64, DType::BF16})
    for (int64_t N : {1, 3, 9, 40})
      for (int64_t Cn : {1, 5, 31, 33, 64, 1000, 1024, 1025, 1500, 2049, 4100}) {
        INFO(std::string(dtype_name(d)), " N ", N, " C ", Cn);
        const DType cd = cpu_dt(d);
        const Tensor x = rnd({N, Cn}, 1, d, 3), gy = rnd({N, Cn}, 2, d);
        const Tensor xc = to(x, cd), gyc = to(gy, cd);
        for (bool lg : {false, true}) {
          INFO("log ", lg);
          Tensor yc = E({N, Cn}, cd, Device::CPU), yg = E({N, Cn}, d, Device::CUDA);
          C().softmax(xc, yc, lg); G().softmax(dev(x), yg, lg);
          CLOSE(yc, yg, tol_of(d));
          Tensor gxc = E({N, Cn}, cd, Device::CPU), gxg = E({N, Cn}, d, Device::CUDA);
          const Tensor ycr = to(to(yc, d), cd);  // the y the device sees
          C().softmax_backward(ycr, gyc, gxc, lg); G().softmax_backward(dev(to(yc, d)), dev(gy), gxg, lg);
          CLOSE(gxc, gxg, tol_of(d) * 10);
        }
        for (int wb = 0; wb < 2; ++wb) {
          INFO("affine ", wb);
          const Tensor w = wb ? rnd({Cn}, 3, d) : Tensor(), b = wb ? rnd({Cn}, 4, d) : Tensor();
          const Tensor wc = wb ? to(w, cd) : Tensor(), bc = wb ? to(b, cd) : Tensor();
          Tensor yc = E({N, Cn}, cd, Device::CPU), mc = E({N}, cd, Device::CPU), rc = E({N}, cd, Device::CPU);
          Tensor yg = E({N, Cn}, d, Device::CUDA), mg = E({N}, cd, Device::CUDA), rg = E({N}, cd, Device::CUDA);  // stats f32 for bf16
          C().layer_norm(xc, wc, bc, 1e-5, yc, mc, rc);
          G().layer_norm(dev(x), wb ? dev(w) : Tensor(), wb ? dev(b) : Tensor(), 1e-5, yg, mg, rg);
          CLOSE(yc, yg, tol_of(d) * 5); CLOSE(mc, mg, tol_of(d)); CLOSE(rc, rg, tol_of(d) * 5);
          Tensor gxc = E({N, Cn}, cd, Device::CPU), gwc = E({Cn}, cd, Device::CPU), gbc = E({Cn}, cd, Device::CPU);
          Tensor gxg = E({N, Cn}, d, Device::CUDA), gwg = E({Cn}, d, Device::CUDA), gbg = E({Cn}, d, Device::CUDA);
          C().layer_norm_backward(xc, wc, mc, rc, gyc, gxc, gwc, gbc);
          G().layer_norm_backward(dev(x), wb ? dev(w) : Tensor(), dev(mc), dev(rc), dev(gy), gxg, gwg, gbg);
          CLOSE(gxc, gxg, tol_of(d) * 20); CLOSE(gwc, gwg, tol_of(d) * 20); CLOSE(gbc, gbg, tol_of(d) * 20);
        }
        {
          std::vector<int64_t> t(static_cast<size_t>(N)); for (int64_t n = 0; n < N; ++n) t[size_t(n)] = (n * 7919) % Cn;
          for (DType td : {DType::I64, DType::I32}) {
            const Tensor tg = to(Tensor::from_vector(t, {N}), td);
            Tensor lc = E({N}, cd, Device::CPU), sc = E({N}, cd, Device::CPU), lg = E({N}, d, Device::CUDA), sg = E({N}, cd, Device::CUDA);
            C().cross_entropy(xc, tg, lc, sc); G().cross_entropy(dev(x), dev(tg), lg, sg);
            CLOSE(lc, lg, tol_of(d) * 5); CLOSE(sc, sg, tol_of(d) * 5);
            const Tensor gl = rnd({N}, 5, d);
            Tensor gc = E({N, Cn}, cd, Device::CPU), gg = E({N, Cn}, d, Device::CUDA);
            C().cross_entropy_backward(xc, tg, sc, to(gl, cd), gc);
            G().cross_entropy_backward(dev(x), dev(tg), dev(sc), dev(gl), gg);
            CLOSE(gc, gg, tol_of(d) * 10);
          }
        }
      }
}

KERNEL_CASE("rows: special values (-inf rows, +inf, NaN)", "softmax") {
  for (DType d : {DType::F32, DType::F64})
    for (int64_t Cn : {7, 2000}) {
      INFO(std::string(dtype_name(d)), " C ", Cn);
      Tensor x = to(Tensor::randn({4, Cn}, 1, 0, DType::F64), d);
      auto v = to(x, DType::F64).to_vector<double>();
      for (int64_t c = 0; c < Cn; ++c) v[size_t(c)] = -INFINITY;            // row 0 all -inf
      v[size_t(Cn + 3)] = -INFINITY;                                          // row 1 one -inf
      v[size_t(2 * Cn + 1)] = INFINITY;                                       // row 2 +inf
      v[size_t(3 * Cn + 2)] = NAN;                                            // row 3 NaN
      x = to(Tensor::from_vector(v, {4, Cn}), d);
      for (bool lg : {false, true}) {
        Tensor yc = E({4, Cn}, d, Device::CPU), yg = E({4, Cn}, d, Device::CUDA);
        C().softmax(x, yc, lg); G().softmax(dev(x), yg, lg);
        INFO("log ", lg);
        CLOSE(yc, yg, tol_of(d));
      }
    }
}

KERNEL_CASE("attention: head widths, lengths, KV cache, f32/f64/bf16", "attention attention_backward") {
  for (DType d : {DType::F32, DType::F64, DType::BF16})
    for (int64_t D : {1, 8, 16, 24, 40, 64, 100, 128, 200, 256})
      for (auto [Tq, Tk] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 5}, {3, 8}, {16, 16}, {17, 17}, {70, 70}, {1, 300}, {3, 100}, {20, 100}, {16, 200}, {130, 130}}) {
        if (d == DType::BF16 && D > 128) continue;
        if ((D >= 200) && Tk > 100) continue;
        INFO(std::string(dtype_name(d)), " D ", D, " Tq ", Tq, " Tk ", Tk);
        const int64_t B = 2, H = 2;
        const DType cd = cpu_dt(d);
        const Tensor q = rnd({B, H, Tq, D}, 1, d), k = rnd({B, H, Tk, D}, 2, d), v = rnd({B, H, Tk, D}, 3, d), go = rnd({B, H, Tq, D}, 4, d);
        const double scale = 1 / std::sqrt(double(D));
        Tensor oc = E({B, H, Tq, D}, cd, Device::CPU), lc = E({B, H, Tq}, cd, Device::CPU);
        Tensor og = E({B, H, Tq, D}, d, Device::CUDA), lg = E({B, H, Tq}, cd, Device::CUDA);  // lse: f32 for bf16
        C().attention(to(q, cd), to(k, cd), to(v, cd), scale, oc, lc);
        G().attention(dev(q), dev(k), dev(v), scale, og, lg);
        CLOSE(oc, og, tol_of(d) * 5); CLOSE(lc, lg, tol_of(d) * 5);
        Tensor gqc = E(q.shape(), cd, Device::CPU), gkc = E(k.shape(), cd, Device::CPU), gvc = E(v.shape(), cd, Device::CPU);
        Tensor gqg = E(q.shape(), d, Device::CUDA), gkg = E(k.shape(), d, Device::CUDA), gvg = E(v.shape(), d, Device::CUDA);
        const Tensor ocr = to(to(oc, d), cd);
        C().attention_backward(to(q, cd), to(k, cd), to(v, cd), ocr, lc, to(go, cd), scale, gqc, gkc, gvc);
        G().attention_backward(dev(q), dev(k), dev(v), dev(to(oc, d)), dev(lc), dev(go), scale, gqg, gkg, gvg);
        CLOSE(gqc, gqg, tol_of(d) * 20); CLOSE(gkc, gkg, tol_of(d) * 20); CLOSE(gvc, gvg, tol_of(d) * 20);
      }
}

KERNEL_CASE("attention: strided heads (a packed qkv, a (B,T,H,D) output)", "attention attention_backward") {
  for (DType d : {DType::F32, DType::F64})
  for (int64_t T : {37, 8}) {  // the tile kernels; a warp per sequence (attention_short.cu)
    INFO("T ", T);
    const int64_t B = 2, H = 3, D = 24;
    const Tensor qkv = rnd({B, T, 3, H, D}, 7, d);
    const Tensor q = permute(select(qkv, 2, 0), {0, 2, 1, 3}), k = permute(select(qkv, 2, 1), {0, 2, 1, 3}),
                 v = permute(select(qkv, 2, 2), {0, 2, 1, 3});
    const Tensor qkvg = dev(qkv);
    const Tensor qg = permute(select(qkvg, 2, 0), {0, 2, 1, 3}), kg = permute(select(qkvg, 2, 1), {0, 2, 1, 3}),
                 vg = permute(select(qkvg, 2, 2), {0, 2, 1, 3});
    Tensor oc = E({B, H, T, D}, d, Device::CPU), lc = E({B, H, T}, d, Device::CPU);
    const Tensor og4 = E({B, T, H, D}, d, Device::CUDA);
    const Tensor og = permute(og4, {0, 2, 1, 3});
    Tensor lg = E({B, H, T}, d, Device::CUDA);
    C().attention(contiguous(q), contiguous(k), contiguous(v), 0.3, oc, lc);
    G().attention(qg, kg, vg, 0.3, og, lg);
    INFO(std::string(dtype_name(d)));
    CLOSE(oc, contiguous(host(og)), tol_of(d) * 5); CLOSE(lc, lg, tol_of(d) * 5);
    const Tensor go = rnd({B, H, T, D}, 8, d);
    Tensor gqc = E(q.shape(), d, Device::CPU), gkc = E(q.shape(), d, Device::CPU), gvc = E(q.shape(), d, Device::CPU);
    C().attention_backward(contiguous(q), contiguous(k), contiguous(v), oc, lc, go, 0.3, gqc, gkc, gvc);
    const Tensor g5 = E({B, T, 3, H, D}, d, Device::CUDA);
    const Tensor gq = permute(select(g5, 2, 0), {0, 2, 1, 3}), gk = permute(select(g5, 2, 1), {0, 2, 1, 3}),
                 gv = permute(select(g5, 2, 2), {0, 2, 1, 3});
    G().attention_backward(qg, kg, vg, og, lg, dev(go), 0.3, gq, gk, gv);
    CLOSE(gqc, contiguous(host(gq)), tol_of(d) * 20); CLOSE(gkc, contiguous(host(gk)), tol_of(d) * 20); CLOSE(gvc, contiguous(host(gv)), tol_of(d) * 20);
  }
}

KERNEL_CASE("reduce: sum, max, argmax over (A, R, N), all dtypes, both paths", "reduce") {
  for (DType d : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::I64, DType::U8})
    for (auto [A, R, N] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 1, 1}, {1, 5000, 1}, {3, 100, 7}, {1, 64, 1}, {2, 63, 3}, {1, 300, 2047}, {1, 100, 2048}, {7, 1000, 1}, {1, 0, 5},
                                                                                       {1, 1500, 2100}, {2, 1100, 1030}}) {  // the last two: sliced sums
      INFO(std::string(dtype_name(d)), " A ", A, " R ", R, " N ", N);
      Tensor x = to(mul_scalar(Tensor::randn({A, R, N}, 3, 0, DType::F64), 20), d);
      if (d == DType::U8) x = to(abs(mul_scalar(Tensor::randn({A, R, N}, 3, 0, DType::F64), 20)), d);
      const DType cd = d == DType::BF16 ? DType::F32 : d;
      const Tensor xc = to(x, cd);
      for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::argmax}) {
        if ((R == 0 || N != 1) && op != ReduceOp::sum) continue;
        INFO("op ", int(op));
        const DType od = op == ReduceOp::argmax ? DType::I64 : d, ocd = op == ReduceOp::argmax ? DType::I64 : cd;
        Tensor oc = E({A, N}, ocd, Device::CPU), og = E({A, N}, od, Device::CUDA);
        C().reduce(op, xc, A, R, N, oc); G().reduce(op, dev(x), A, R, N, og);
        CLOSE(oc, og, d == DType::BF16 ? 1e-2 : 1e-6);
      }
    }
}

KERNEL_CASE("reduce: NaN and ties in max/argmax", "reduce") {
  std::vector<double> v = {1, 3, 3, NAN, 2, NAN, 0, 0};
  for (int64_t R : {8, 200}) {
    std::vector<double> w(size_t(R), -1.0);
    for (size_t i = 0; i < v.size(); ++i) w[size_t(R) - 8 + i] = v[i];
    const Tensor x = Tensor::from_vector(w, {1, R, 1});
    for (ReduceOp op : {ReduceOp::max, ReduceOp::argmax}) {
      INFO("R ", R, " op ", int(op));
      const DType od = op == ReduceOp::argmax ? DType::I64 : DType::F64;
      Tensor oc = E({1, 1}, od, Device::CPU), og = E({1, 1}, od, Device::CUDA);
      C().reduce(op, x, 1, R, 1, oc); G().reduce(op, dev(x), 1, R, 1, og);
      CLOSE(oc, og, 0);
    }
  }
}

KERNEL_CASE("bmm: layouts, K = 0, broadcast batch, accumulate, dtypes", "bmm") {
  for (DType d : {DType::F32, DType::F64, DType::BF16})
    for (auto [n, M, K, N] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{{1, 3, 4, 5}, {2, 1, 7, 1}, {3, 5, 1, 4}, {2, 4, 0, 3}, {1, 1, 1, 1}, {2, 17, 33, 9}})
      for (int layout = 0; layout < 4; ++layout)
        for (bool acc : {false, true}) {
          INFO(std::string(dtype_name(d)), " n ", n, " M ", M, " K ", K, " N ", N, " layout ", layout, " acc ", acc);
          const DType cd = cpu_dt(d);
          Tensor a = rnd({n, M, K}, 1, d), b = rnd({n, K, N}, 2, d);
          if (layout & 1) a = transpose(rnd({n, K, M}, 1, d), 1, 2);
          if (layout & 2) b = transpose(rnd({n, N, K}, 2, d), 1, 2);
          const Tensor o0 = rnd({n, M, N}, 3, d);
          Tensor oc = to(o0, cd).detach(); oc = clone(oc);
          Tensor og = clone(dev(o0));
          const Tensor ag = layout & 1 ? transpose(dev(contiguous(transpose(a, 1, 2))), 1, 2) : dev(a);
          const Tensor bg = layout & 2 ? transpose(dev(contiguous(transpose(b, 1, 2))), 1, 2) : dev(b);
          C().bmm(to(a, cd), to(b, cd), oc, acc);
          std::string err;
          try { G().bmm(ag, bg, og, acc); } catch (const std::exception& e) { err = e.what(); }
          INFO("error: ", err);
          CHECK(err.empty());
          if (err.empty()) CLOSE(oc, og, d == DType::BF16 ? 3e-2 : tol_of(d) * 10);
        }
  // a broadcast (stride-0) batch and a row-broadcast operand
  for (DType d : {DType::F32, DType::F64}) {
    const Tensor a = rnd({1, 4, 6}, 1, d), b = rnd({3, 6, 5}, 2, d);
    const Tensor ae = expand(a, {3, 4, 6});
    Tensor oc = E({3, 4, 5}, d, Device::CPU), og = E({3, 4, 5}, d, Device::CUDA);
    C().bmm(ae, b, oc, false); G().bmm(expand(dev(a), {3, 4, 6}), dev(b), og, false);
    CLOSE(oc, og, tol_of(d) * 10);
    const Tensor r = rnd({3, 1, 6}, 4, d);
    const Tensor re = expand(r, {3, 4, 6});
    C().bmm(re, b, oc, false); G().bmm(expand(dev(r), {3, 4, 6}), dev(b), og, false);
    CLOSE(oc, og, tol_of(d) * 10);
  }
}

KERNEL_CASE("gather: embedding, unfold/fold, dtypes", "embedding embedding_backward unfold_causal fold_causal") {
  for (DType d : {DType::F32, DType::F64, DType::BF16}) {
    const int64_t V = 11, D = 6;
    const Tensor w = rnd({V, D}, 1, d);
    for (int64_t N : {40, 1000})  // one chunk of the device counting sort, and sixteen
    for (DType id : {DType::I64, DType::I32, DType::U8}) {
      INFO(std::string(dtype_name(d)), " N ", N, " idx ", std::string(dtype_name(id)));
      std::vector<int64_t> iv(static_cast<size_t>(N)); for (int64_t i = 0; i < N; ++i) iv[size_t(i)] = (i * 5) % 3 + (i % 7 == 0 ? 8 : 0);
      const Tensor idx = to(Tensor::from_vector(iv, {N}), id);
      Tensor oc = E({N, D}, d, Device::CPU), og = E({N, D}, d, Device::CUDA);
      C().embedding(w, idx, oc); G().embedding(dev(w), dev(idx), og);
      CLOSE(oc, og, 0);
      const Tensor gy = rnd({N, D}, 2, d);
      const DType cd = cpu_dt(d);
      Tensor gc = to(rnd({V, D}, 3, d), cd), gg = dev(rnd({V, D}, 3, d));
      C().embedding_backward(idx, to(gy, cd), gc); G().embedding_backward(dev(idx), dev(gy), gg);
      CLOSE(gc, gg, tol_of(d) * 5);
    }
    for (int64_t K : {1, 2, 4, 9}) {
      INFO(std::string(dtype_name(d)), " K ", K);
      const int64_t B = 2, T = 7, Cc = 3;
      const Tensor x = rnd({B, T, Cc}, 4, d);
      Tensor cc = E({B, T, Cc * K}, d, Device::CPU), cg = E({B, T, Cc * K}, d, Device::CUDA);
      const DType cd = cpu_dt(d);
      Tensor ccd = E({B, T, Cc * K}, cd, Device::CPU);
      C().unfold_causal(to(x, cd), K, ccd); G().unfold_causal(dev(x), K, cg);
      CLOSE(ccd, cg, 0);
      const Tensor g = rnd({B, T, Cc * K}, 5, d);
      Tensor gxc = E({B, T, Cc}, cd, Device::CPU), gxg = E({B, T, Cc}, d, Device::CUDA);
      C().fold_causal(to(g, cd), K, gxc); G().fold_causal(dev(g), K, gxg);
      CLOSE(gxc, gxg, tol_of(d) * 5);
    }
  }
}

KERNEL_CASE("optim: sum_squares and adamw over a list of tensors, in one call", "sum_squares adamw") {
  for (DType d : {DType::F32, DType::F64, DType::BF16}) {
    INFO(std::string(dtype_name(d)));
    const DType cd = cpu_dt(d);
    const std::vector<int64_t> sizes = {1, 1000, 70000, 0, 3};  // 70000: two chunks of the device table
    std::vector<Tensor> xc, xg;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const Tensor x = rnd({sizes[i]}, 1 + i, d);
      xc.push_back(to(x, cd));
      xg.push_back(dev(x));
    }
    const double sc = C().sum_squares(xc), sg = G().sum_squares(xg);
    CHECK(std::abs(sc - sg) <= 1e-9 * (1 + sc));
    CHECK(G().sum_squares({}) == 0);
    AdamWStep s{1e-2, 0.9, 0.999, 1e-8, 0.1, 1 - 0.9 * 0.9, std::sqrt(1 - 0.999 * 0.999), 0.5};
    std::vector<AdamWTensors> tc, tg;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const int64_t n = sizes[i];
      const Tensor v0 = to(abs(to(rnd({n}, 10 + i, d, 0.1), cd)), d), p0 = rnd({n}, 20 + i, d), m0 = rnd({n}, 30 + i, d, 0.1),
                   g = rnd({n}, 40 + i, d);
      const bool decay = i % 2 == 0;
      tc.push_back({to(p0, cd), to(g, cd), to(m0, cd), to(v0, cd), decay});
      tg.push_back({dev(p0), dev(g), dev(m0), dev(v0), decay});
    }
    C().adamw(tc, s);
    G().adamw(tg, s);
    for (size_t i = 0; i < sizes.size(); ++i) {
      INFO("tensor ", i);
      CLOSE(tc[i].p, tg[i].p, tol_of(d) * 5); CLOSE(tc[i].m, tg[i].m, tol_of(d) * 5); CLOSE(tc[i].v, tg[i].v, tol_of(d) * 5);
    }
  }
}

KERNEL_CASE("copies: every dtype pair, strided, many dims", "copy") {
  const Tensor x = Tensor::randn({2, 3, 2, 3, 2, 3, 2, 3}, 1, 0, DType::F64);
  const Shape perm = {7, 6, 5, 4, 3, 2, 1, 0};
  for (DType s : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::I64, DType::U8})
    for (DType t : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::I64, DType::U8}) {
      INFO(std::string(dtype_name(s)), " -> ", std::string(dtype_name(t)));
      const Tensor h = to(mul_scalar(abs(x), 10.0), s);
      const Tensor v = permute(h, perm);  // every stride reversed: the copy walks them all
      const Tensor want = E(v.shape(), t, Device::CPU), got = E(v.shape(), t, Device::CUDA);
      C().copy(v, want);
      G().copy(permute(dev(h), perm), got);
      CLOSE(want, got, 0);
    }
}

// The memory kernels on both backends: what each promises (kernels.def), with the CPU's
// answer where there is one: fill (a strided view), arange, Philox random (the same stream
// on both), fresh blocks from alloc, the peak the CUDA allocator counts, the device's name.
KERNEL_CASE("memory: alloc, free, fill, arange, random, synchronize, peak, description",
            "alloc free fill arange random synchronize peak_memory device_description") {
  for (DType d : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::U8}) {
    INFO(std::string(dtype_name(d)));
    const DType cd = cpu_dt(d);
    Tensor wc = Tensor::zeros({5, 7}, cd), wg = dev(Tensor::zeros({5, 7}, d));
    C().fill(transpose(wc, 0, 1), 3);
    G().fill(transpose(wg, 0, 1), 3);
    CLOSE(wc, wg, 0);
    const Tensor ac = E({37}, cd, Device::CPU), ag = E({37}, d, Device::CUDA);
    const double begin = d == DType::U8 ? 2 : -5;
    C().arange(ac, begin);
    G().arange(ag, begin);
    CLOSE(ac, ag, 0);
  }
  for (bool normal : {false, true}) {
    const Tensor rc = E({1000}, DType::F64, Device::CPU), rg = E({1000}, DType::F64, Device::CUDA);
    C().random(rc, 42, 7, normal);
    G().random(rg, 42, 7, normal);
    CLOSE(rc, rg, 1e-14);
  }
  void* a = G().alloc(1000);
  void* b = G().alloc(1000);
  CHECK((a && b && a != b));
  G().synchronize();
  CHECK(G().peak_memory() >= 2000);
  G().free(a);
  G().free(b);
  void* h = C().alloc(64);
  CHECK(h != nullptr);
  C().free(h);
  C().synchronize();
  CHECK(C().peak_memory() == 0);  // not tracked on the CPU
  CHECK(C().device_description() == "cpu");
  const std::string gd = G().device_description();
  CHECK((!gd.empty() && gd != "cpu"));
}

// compare (u8 out) and where, over a broadcast operand, in every dtype: exact on both sides
KERNEL_CASE("elementwise: compare and where, broadcast, every dtype", "compare where") {
  const Tensor x = mul_scalar(Tensor::randn({4, 6}, 1, 0, DType::F64), 3.0), y = mul_scalar(Tensor::randn({1, 6}, 2, 0, DType::F64), 3.0);
  for (DType d : {DType::F32, DType::F64, DType::BF16, DType::I32, DType::I64, DType::U8}) {
    const DType cd = cpu_dt(d);
    const Tensor a = to(d == DType::U8 ? abs(x) : x, d), b = to(d == DType::U8 ? abs(y) : y, d);
    const Tensor ac = to(a, cd), bc = expand(to(b, cd), {4, 6}), ag = dev(a), bg = expand(dev(b), {4, 6});
#define MB_OP(name, ...) CompareOp::name,
    for (CompareOp op : {MB_COMPARE_OPS(MB_OP)}) {
#undef MB_OP
      INFO(std::string(dtype_name(d)), " op ", int(op));
      const Tensor mc = E({4, 6}, DType::U8, Device::CPU), mg = E({4, 6}, DType::U8, Device::CUDA);
      C().compare(op, ac, bc, mc);
      G().compare(op, ag, bg, mg);
      CLOSE(mc, mg, 0);
      const Tensor oc = E({4, 6}, cd, Device::CPU), og = E({4, 6}, d, Device::CUDA);
      C().where(mc, ac, bc, oc);
      G().where(dev(mc), ag, bg, og);
      CLOSE(oc, og, 0);
    }
  }
}

KERNEL_CASE("elementwise: bf16 unary and binary through the table", "unary binary") {
  const Tensor a = rnd({5, 7}, 1, DType::BF16), b = rnd({1, 7}, 2, DType::BF16);
  Tensor oc = E({5, 7}, DType::F32, Device::CPU), og = E({5, 7}, DType::BF16, Device::CUDA);
  C().binary(BinaryOp::mul, to(a, DType::F32), to(expand(b, {5, 7}), DType::F32), oc);
  G().binary(BinaryOp::mul, dev(a), expand(dev(b), {5, 7}), og);
  CLOSE(oc, og, 1e-2);
  C().unary(UnaryOp::gelu, to(a, DType::F32), 0, oc); G().unary(UnaryOp::gelu, dev(a), 0, og);
  CLOSE(oc, og, 1e-2);
}

// The fragment layout of cuda/mma.cuh, which the emulator implements and the tensor-core
// attention relies on: on a GPU this holds the emulator to the hardware. Small integers, so
// every product and sum is exact in f32.
TEST_CASE("mma: fragment layouts of mma.sync m16n8k16 (bf16, f32 accumulation) and ldmatrix.trans") {
  std::vector<uint16_t> a(256), b(128);
  std::vector<float> want(128, 0), got(256, -1);
  auto bits = [](float f) { uint32_t u; std::memcpy(&u, &f, 4); return uint16_t(u >> 16); };
  for (int i = 0; i < 256; ++i) a[size_t(i)] = bits(float((i * 7) % 11 - 5));
  for (int i = 0; i < 128; ++i) b[size_t(i)] = bits(float((i * 5) % 9 - 4));
  auto val = [](uint16_t h) { uint32_t u = uint32_t(h) << 16; float f; std::memcpy(&f, &u, 4); return f; };
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 8; ++c)
      for (int k = 0; k < 16; ++k) want[size_t(r * 8 + c)] += val(a[size_t(r * 16 + k)]) * val(b[size_t(k * 8 + c)]);
  cuda::mma_m16n8k16(a.data(), b.data(), got.data());
  for (int i = 0; i < 256; ++i) {
    INFO((i < 128 ? "B by hand" : "B by ldmatrix.trans"), ": element (", i % 128 / 8, ", ", i % 8, ")");
    CHECK(got[size_t(i)] == want[size_t(i % 128)]);
  }
}

// The tensor-core path (cuda/attention_mma.cu) on the layout training uses: heads read from a
// packed (B, T, 3, H, D) bf16 tensor, gradients written into one, against the CPU in f32 on
// the same bf16 values; and keys past the queries (a KV cache's Tq < Tk). Errors come from
// rounding P and dS to bf16 before their products and the outputs to bf16: measured on the
// emulator, at most 3.5e-3 of the largest element (lse 1e-7); a wrong fragment or mask is O(1).
KERNEL_CASE("attention: bf16 on tensor cores, packed qkv and Tq < Tk, against f32", "attention attention_backward") {
  for (auto [Tq, Tk, D] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{17, 17, 64}, {130, 130, 64}, {70, 70, 128}, {40, 100, 32}, {33, 33, 16}, {65, 65, 24}}) {
    INFO("Tq ", Tq, " Tk ", Tk, " D ", D);
    const int64_t B = 2, H = 3;
    auto heads = [&](const Tensor& packed, int which) { return permute(select(packed, 2, which), {0, 2, 1, 3}); };
    const Tensor qp = rnd({B, Tq, 3, H, D}, 11, DType::BF16), kvp = rnd({B, Tk, 3, H, D}, 12, DType::BF16);
    const Tensor qg = heads(dev(qp), 0), kg = heads(dev(kvp), 1), vg = heads(dev(kvp), 2);
    const Tensor qc = contiguous(to(heads(qp, 0), DType::F32)), kc = contiguous(to(heads(kvp, 1), DType::F32)),
                 vc = contiguous(to(heads(kvp, 2), DType::F32));
    const double scale = 1 / std::sqrt(double(D));
    Tensor oc = E({B, H, Tq, D}, DType::F32, Device::CPU), lc = E({B, H, Tq}, DType::F32, Device::CPU);
    const Tensor og = permute(E({B, Tq, H, D}, DType::BF16, Device::CUDA), {0, 2, 1, 3});
    Tensor lg = E({B, H, Tq}, DType::F32, Device::CUDA);
    C().attention(qc, kc, vc, scale, oc, lc);
    G().attention(qg, kg, vg, scale, og, lg);
    CLOSE(oc, contiguous(host(og)), 6e-3); CLOSE(lc, lg, 1e-5);
    const Tensor go = rnd({B, H, Tq, D}, 13, DType::BF16);
    Tensor gqc = E(qc.shape(), DType::F32, Device::CPU), gkc = E(kc.shape(), DType::F32, Device::CPU), gvc = E(kc.shape(), DType::F32, Device::CPU);
    C().attention_backward(qc, kc, vc, to(to(oc, DType::BF16), DType::F32), lc, to(go, DType::F32), scale, gqc, gkc, gvc);
    const Tensor gq5 = E({B, Tq, 3, H, D}, DType::BF16, Device::CUDA), gkv5 = E({B, Tk, 3, H, D}, DType::BF16, Device::CUDA);
    G().attention_backward(qg, kg, vg, dev(to(oc, DType::BF16)), dev(lc), dev(go), scale, heads(gq5, 0), heads(gkv5, 1), heads(gkv5, 2));
    CLOSE(gqc, contiguous(host(heads(gq5, 0))), 1e-2); CLOSE(gkc, contiguous(host(heads(gkv5, 1))), 1e-2);
    CLOSE(gvc, contiguous(host(heads(gkv5, 2))), 1e-2);
  }
}
// cuda/linear.cu: the bias (and ReLU) in cuBLASLt's epilogue forward, the bias gradient from the weight
// GEMM backward (f64 and refused combinations take the composed path, which the CPU runs too).
KERNEL_CASE("linear: bias epilogue and bias-gradient epilogue against the CPU", "linear linear_backward_weight") {
  for (DType d : {DType::F32, DType::F64, DType::BF16})
    for (auto [rows, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 1, 1}, {7, 5, 3}, {64, 33, 17}, {300, 64, 96}, {5, 0, 4}, {0, 6, 4}})
      for (int wb = 0; wb < 2; ++wb)
      for (bool relu : {false, true}) {
        INFO(std::string(dtype_name(d)), " rows ", rows, " in ", in, " out ", out, " bias ", wb, " relu ", relu);
        const DType cd = cpu_dt(d);
        const Tensor x = rnd({rows, in}, 1, d), w = rnd({out, in}, 2, d), gy = rnd({rows, out}, 3, d);
        const Tensor b = wb ? rnd({out}, 4, d) : Tensor();
        Tensor yc = E({rows, out}, cd, Device::CPU), yg = E({rows, out}, d, Device::CUDA);
        C().linear(to(x, cd), to(w, cd), wb ? to(b, cd) : Tensor(), relu, yc);
        G().linear(dev(x), dev(w), wb ? dev(b) : Tensor(), relu, yg);
        CLOSE(yc, yg, tol_of(d));
        Tensor gwc = E({out, in}, cd, Device::CPU), gwg = E({out, in}, d, Device::CUDA);
        Tensor gbc = wb ? E({out}, cd, Device::CPU) : Tensor(), gbg = wb ? E({out}, d, Device::CUDA) : Tensor();
        C().linear_backward_weight(to(x, cd), to(gy, cd), gwc, gbc);
        G().linear_backward_weight(dev(x), dev(gy), gwg, gbg);
        CLOSE(gwc, gwg, tol_of(d));
        if (wb) CLOSE(gbc, gbg, tol_of(d));
      }
}
// cuda/linear.cu's plans: the first call of a shape asks cuBLASLt's heuristic (one plan), the
// next calls of that shape reuse it with new pointers and the same answer; another shape, or
// the same shape at a pointer of lower alignment, is a new plan.
KERNEL_CASE("linear: a cuBLASLt plan per shape, made once and reused", "linear") {
  const Tensor x = rnd({37, 24}, 1, DType::F32), w = rnd({40, 24}, 2, DType::F32), b = rnd({40}, 3, DType::F32);
  const Tensor want = E({37, 40}, DType::F32, Device::CPU);
  C().linear(x, w, b, false, want);
  const cuda::LinearPlanStats s0 = cuda::linear_plan_stats();
  for (int i = 0; i < 3; ++i) {
    Tensor y = E({37, 40}, DType::F32, Device::CUDA);
    G().linear(dev(x), dev(w), dev(b), false, y);
    CLOSE(want, y, tol_of(DType::F32));
  }
  const cuda::LinearPlanStats s1 = cuda::linear_plan_stats();
  CHECK(s1.plans == s0.plans + 1);
  CHECK(s1.hits == s0.hits + 2);
  CHECK(s1.refused == s0.refused);
  Tensor y = E({36, 40}, DType::F32, Device::CUDA);
  G().linear(dev(slice(x, 0, 0, 36)), dev(w), dev(b), false, y);
  CHECK(cuda::linear_plan_stats().plans == s1.plans + 1);
  // x from its second row: 96 bytes past a 256-byte-aligned allocation, a 32-byte alignment
  const Tensor xs = slice(dev(x), 0, 1, 37), ys = E({36, 40}, DType::F32, Device::CUDA);
  G().linear(xs, dev(w), dev(b), false, ys);
  CHECK(cuda::linear_plan_stats().plans == s1.plans + 2);
  CLOSE(slice(want, 0, 1, 37), ys, tol_of(DType::F32));
}
// map_packed (cuda/strided.cuh): contiguous operands 16 bytes at a time, the tail one by one;
// sizes around the pack widths (2 f64, 4 f32, 8 bf16), against the CPU.
KERNEL_CASE("elementwise: 128-bit packs and their tails, forward and backward", "unary unary_backward binary binary_backward") {
  for (DType d : {DType::F32, DType::F64, DType::BF16})
    for (int64_t n : {1, 2, 7, 8, 9, 33, 1000}) {
      INFO(std::string(dtype_name(d)), " n ", n);
      const DType cd = cpu_dt(d);
      const Tensor a = rnd({n}, 1, d), b = rnd({n}, 2, d), gy = rnd({n}, 3, d);
      Tensor yc = E({n}, cd, Device::CPU), yg = E({n}, d, Device::CUDA);
      C().unary(UnaryOp::tanh, to(a, cd), 0, yc);
      G().unary(UnaryOp::tanh, dev(a), 0, yg);
      CLOSE(yc, yg, tol_of(d));
      Tensor gc = E({n}, cd, Device::CPU), gg = E({n}, d, Device::CUDA);
      C().unary_backward(UnaryOp::tanh, to(a, cd), yc, 0, to(gy, cd), gc);
      G().unary_backward(UnaryOp::tanh, dev(a), dev(to(yc, d)), 0, dev(gy), gg);
      CLOSE(gc, gg, tol_of(d) * 5);
      C().binary(BinaryOp::mul, to(a, cd), to(b, cd), yc);
      G().binary(BinaryOp::mul, dev(a), dev(b), yg);
      CLOSE(yc, yg, tol_of(d));
      Tensor gac = E({n}, cd, Device::CPU), gbc = E({n}, cd, Device::CPU), gag = E({n}, d, Device::CUDA), gbg = E({n}, d, Device::CUDA);
      C().binary_backward(BinaryOp::mul, to(a, cd), to(b, cd), yc, to(gy, cd), gac, gbc);
      G().binary_backward(BinaryOp::mul, dev(a), dev(b), dev(to(yc, d)), dev(gy), gag, gbg);
      CLOSE(gac, gag, tol_of(d)); CLOSE(gbc, gbg, tol_of(d));
    }
}
#endif
