// CPU elementwise kernels: the formulas of tensor/elementwise_ops.h applied over strided rows.
// The transcendental ones (exp, log, tanh, sigmoid, GELU's erf) have a second, SIMD form here:
// the scalar libm calls run at 1-3 GB/s, Eigen's vectorised functions near memory speed.
#include "tensor/cpu/eigen.h"
#include <unsupported/Eigen/SpecialFunctions>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/loops.h"

namespace mb::cpu {
namespace {

// Runs f(t, j) for j in [0, n), where t holds one typed pointer per operand and f reads
// t[i][j]. Dense rows (every step is sizeof(T)) index from the row start, a loop the compiler
// vectorises; strided rows pass pointers already at element j, with j = 0.
template <class T, size_t N, class F>
inline void each(const Ptrs<N>& p, const Steps<N>& st, int64_t n, F f) {
  std::array<T*, N> t;
  bool dense = true;
  for (size_t i = 0; i < N; ++i) {
    t[i] = reinterpret_cast<T*>(p[i]);
    dense = dense && st[i] == int64_t(sizeof(T));
  }
  if (dense) {
    for (int64_t j = 0; j < n; ++j) f(t, j);
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < N; ++i) t[i] = reinterpret_cast<T*>(p[i] + j * st[i]);
    f(t, 0);
  }
}

// The SIMD forms: the same maths as unary_fwd / unary_grad (elementwise_ops.h), on Eigen
// arrays. Ops without one return false from has_simd and use the scalar formula.
template <UnaryOp op> constexpr bool has_simd() {
  return op == UnaryOp::exp || op == UnaryOp::log || op == UnaryOp::tanh || op == UnaryOp::sigmoid ||
         op == UnaryOp::gelu;
}
template <UnaryOp op, class A> auto simd_fwd(const A& x) {
  using T = typename A::Scalar;
  if constexpr (op == UnaryOp::exp) return exp_ftz(x);
  else if constexpr (op == UnaryOp::log) return x.log();
  else if constexpr (op == UnaryOp::tanh) return x.tanh();
  else if constexpr (op == UnaryOp::sigmoid) return T(1) / (T(1) + exp_ftz(-x));
  else return T(0.5) * x * (T(1) + (x * T(0.70710678118654752)).erf());  // gelu
}
// The gradients with a SIMD form, gx = gy · dy/dx from x alone: GELU's derivative is
// transcendental in x.
template <UnaryOp op> constexpr bool has_simd_grad() { return op == UnaryOp::gelu; }
template <UnaryOp op, class A, class G> auto simd_grad(const A& x, const G& gy) {
  using T = typename A::Scalar;
  return gy * (T(0.5) * (T(1) + (x * T(0.70710678118654752)).erf()) +
               x * exp_ftz(T(-0.5) * x.square()) * T(0.39894228040143268));  // gelu
}

template <class T> using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T> using ArrMap = Eigen::Map<Arr<T>>;
template <class T> using CArrMap = Eigen::Map<const Arr<T>>;

// A row of n elements at `step` bytes as an array: a map when dense, else gathered into `buf`.
template <class T> CArrMap<T> gather(const char* p, int64_t step, int64_t n, Arr<T>& buf) {
  if (step == int64_t(sizeof(T))) return CArrMap<T>(reinterpret_cast<const T*>(p), n);
  buf.resize(n);
  for (int64_t j = 0; j < n; ++j) buf[j] = *reinterpret_cast<const T*>(p + j * step);
  return CArrMap<T>(buf.data(), n);
}
template <class T, class E> void scatter(char* p, int64_t step, const E& e) {
  if (step == int64_t(sizeof(T))) {
    ArrMap<T>(reinterpret_cast<T*>(p), e.size()) = e;
    return;
  }
  const Arr<T> v = e;
  for (int64_t j = 0; j < v.size(); ++j) *reinterpret_cast<T*>(p + j * step) = v[j];
}

template <UnaryOp op, class T>
void unary_t(const Tensor& x, T s, const Tensor& y) {
  if constexpr (has_simd<op>()) {
    for_each_row<2>(y.shape(), {&y, &x}, [](Ptrs<2> p, Steps<2> st, int64_t n) {
      Arr<T> buf;
      scatter<T>(p[0], st[0], simd_fwd<op>(gather<T>(p[1], st[1], n, buf)));
    });
    return;
  }
  for_each_row<2>(y.shape(), {&y, &x}, [s](Ptrs<2> p, Steps<2> st, int64_t n) {
    each<T>(p, st, n, [s](const std::array<T*, 2>& t, int64_t j) {
      t[0][j] = unary_fwd<op, T>(t[1][j], s);
    });
  });
}

template <UnaryOp op, class T>
void unary_backward_t(const Tensor& x, const Tensor& y, T s, const Tensor& gy, const Tensor& gx) {
  if constexpr (op == UnaryOp::relu) {  // gy where x > 0, else 0 (as PyTorch's threshold_backward):
    // a select the compiler vectorises (Eigen's gy * (x > 0).cast() and gy * relu'(x) were
    // scalar: the ReLU's mask took 2.6% of small's step)
    for_each_row<3>(gx.shape(), {&gx, &x, &gy}, [](Ptrs<3> p, Steps<3> st, int64_t n) {
      each<T>(p, st, n, [](const std::array<T*, 3>& t, int64_t j) {
        const T g = t[2][j];  // (read whatever x is: no masked load)
        t[0][j] = t[1][j] > T(0) ? g : T(0);
      });
    });
    return;
  }
  if constexpr (has_simd_grad<op>()) {
    for_each_row<3>(gx.shape(), {&gx, &x, &gy}, [](Ptrs<3> p, Steps<3> st, int64_t n) {
      Arr<T> bx, bg;
      scatter<T>(p[0], st[0], simd_grad<op>(gather<T>(p[1], st[1], n, bx), gather<T>(p[2], st[2], n, bg)));
    });
    return;
  }
  for_each_row<4>(gx.shape(), {&gx, &x, &y, &gy}, [s](Ptrs<4> p, Steps<4> st, int64_t n) {
    each<T>(p, st, n, [s](const std::array<T*, 4>& t, int64_t j) {
      t[0][j] = t[3][j] * unary_grad<op, T>(t[1][j], t[2][j], s);
    });
  });
}

template <BinaryOp op, class T>
void binary_t(const Tensor& a, const Tensor& b, const Tensor& out) {
  for_each_row<3>(out.shape(), {&out, &a, &b}, [](Ptrs<3> p, Steps<3> st, int64_t n) {
    each<T>(p, st, n, [](const std::array<T*, 3>& t, int64_t j) {
      t[0][j] = binary_fwd<op, T>(t[1][j], t[2][j]);
    });
  });
}

// Writes the gradient of each defined output; an undefined ga or gb is skipped.
template <BinaryOp op, class T>
void binary_backward_t(const Tensor& a, const Tensor& b, const Tensor& y, const Tensor& gy,
                       const Tensor& ga, const Tensor& gb) {
  auto pass = [&](const Tensor& g, auto grad) {
    for_each_row<5>(g.shape(), {&g, &a, &b, &y, &gy}, [grad](Ptrs<5> p, Steps<5> st, int64_t n) {
      each<T>(p, st, n, [grad](const std::array<T*, 5>& t, int64_t j) {
        t[0][j] = t[4][j] * grad(t[1][j], t[2][j], t[3][j]);
      });
    });
  };
  if (ga.defined()) pass(ga, [](T av, T bv, T yv) { return binary_grad_a<op, T>(av, bv, yv); });
  if (gb.defined()) pass(gb, [](T av, T bv, T yv) { return binary_grad_b<op, T>(av, bv, yv); });
}

template <CompareOp op, class T>
void compare_t(const Tensor& a, const Tensor& b, const Tensor& out) {
  for_each_row<3>(out.shape(), {&out, &a, &b}, [](Ptrs<3> p, Steps<3> st, int64_t n) {
    for (int64_t j = 0; j < n; ++j)
      elem<uint8_t>(p[0], st[0], j) =
          compare_fwd<op, T>(elem<T>(p[1], st[1], j), elem<T>(p[2], st[2], j)) ? 1 : 0;
  });
}

}  // namespace

void unary(UnaryOp op, const Tensor& x, double s, const Tensor& y) {
  visit_float(y.dtype(), [&](auto z) {
    using T = decltype(z);
    visit_op(op, [&](auto o) { unary_t<decltype(o)::value, T>(x, T(s), y); });
  });
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, double s, const Tensor& gy,
                    const Tensor& gx) {
  visit_float(gx.dtype(), [&](auto z) {
    using T = decltype(z);
    visit_op(op, [&](auto o) { unary_backward_t<decltype(o)::value, T>(x, y, T(s), gy, gx); });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_float(out.dtype(), [&](auto z) {
    using T = decltype(z);
    visit_op(op, [&](auto o) { binary_t<decltype(o)::value, T>(a, b, out); });
  });
}

void binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& y,
                     const Tensor& gy, const Tensor& ga, const Tensor& gb) {
  visit_float(gy.dtype(), [&](auto z) {
    using T = decltype(z);
    visit_op(op, [&](auto o) { binary_backward_t<decltype(o)::value, T>(a, b, y, gy, ga, gb); });
  });
}

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&](auto z) {
    using T = decltype(z);
    if constexpr (std::is_same_v<T, bf16>) {
      throw Error("compare: bf16 is a storage type; convert to f32 first");
    } else {
      visit_op(op, [&](auto o) { compare_t<decltype(o)::value, T>(a, b, out); });
    }
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&](auto z) {
    using T = decltype(z);
    for_each_row<4>(out.shape(), {&out, &cond, &a, &b}, [](Ptrs<4> p, Steps<4> st, int64_t n) {
      for (int64_t j = 0; j < n; ++j)
        elem<T>(p[0], st[0], j) =
            elem<uint8_t>(p[1], st[1], j) ? elem<T>(p[2], st[2], j) : elem<T>(p[3], st[3], j);
    });
  });
}

}  // namespace mb::cpu
