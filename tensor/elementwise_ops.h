// The elementwise ops, each written once as a formula for its value and its derivative.
// The CPU kernels (tensor/cpu/elementwise.cpp) and the CUDA kernels expand these same lists,
// so the two backends cannot disagree on what an op means.
//
// In the formulas: x is the input, s the scalar argument (scalar variants), y the output;
// a and b are the two inputs of a binary op. T is float or double.
#pragma once
#include <cmath>
#include <type_traits>

#ifdef __CUDACC__
#define MB_HD __host__ __device__ inline
#else
#define MB_HD inline
#endif

namespace mb {

// X(name, y = f(x), dy/dx)
#define MB_UNARY_OPS(X)                                                                     \
  X(neg, -x, T(-1))                                                                         \
  X(exp, std::exp(x), y)                                                                    \
  X(log, std::log(x), T(1) / x)                                                             \
  X(sqrt, std::sqrt(x), T(0.5) / y)                                                         \
  X(rsqrt, T(1) / std::sqrt(x), T(-0.5) * y * y * y)                                        \
  X(tanh, std::tanh(x), T(1) - y * y)                                                       \
  X(sigmoid, T(1) / (T(1) + std::exp(-x)), y * (T(1) - y))                                 \
  X(relu, x > T(0) ? x : T(0), x > T(0) ? T(1) : T(0))                                      \
  X(gelu, T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752))),                      \
    T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752))) +                                \
        x * std::exp(T(-0.5) * x * x) * T(0.39894228040143268))                             \
  X(abs, std::abs(x), x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)))                         \
  X(square, x * x, T(2) * x)                                                                \
  X(sin, std::sin(x), std::cos(x))                                                          \
  X(cos, std::cos(x), -std::sin(x))

// The scalar variants: X(name, y = f(x, s), dy/dx)
#define MB_SCALAR_OPS(X)                                                                    \
  X(add_scalar, x + s, T(1))                                                                \
  X(mul_scalar, x * s, s)                                                                   \
  X(pow_scalar, std::pow(x, s), s * std::pow(x, s - T(1)))                                  \
  X(rsub_scalar, s - x, T(-1))                                                              \
  X(rdiv_scalar, s / x, -y / x)                                                             \
  X(clamp_min, x > s ? x : s, x > s ? T(1) : T(0))                                          \
  X(clamp_max, x < s ? x : s, x < s ? T(1) : T(0))

// X(name, y = f(a, b), dy/da, dy/db); ties of maximum/minimum split the gradient evenly.
#define MB_BINARY_OPS(X)                                                                    \
  X(add, a + b, T(1), T(1))                                                                 \
  X(sub, a - b, T(1), T(-1))                                                                \
  X(mul, a * b, b, a)                                                                       \
  X(div, a / b, T(1) / b, -y / b)                                                           \
  X(maximum, a > b ? a : b, a > b ? T(1) : (a == b ? T(0.5) : T(0)),                        \
    a < b ? T(1) : (a == b ? T(0.5) : T(0)))                                                \
  X(minimum, a < b ? a : b, a < b ? T(1) : (a == b ? T(0.5) : T(0)),                        \
    a > b ? T(1) : (a == b ? T(0.5) : T(0)))                                                \
  X(pow, std::pow(a, b), b * std::pow(a, b - T(1)), y * std::log(a))

// X(name, predicate on a and b): the result is a uint8 mask (1 true, 0 false).
#define MB_COMPARE_OPS(X) \
  X(eq, a == b)           \
  X(ne, a != b)           \
  X(lt, a < b)            \
  X(le, a <= b)           \
  X(gt, a > b)            \
  X(ge, a >= b)

#define MB_ALL_UNARY_OPS(X) MB_UNARY_OPS(X) MB_SCALAR_OPS(X)

#define MB_ENUM_ENTRY(name, ...) name,
enum class UnaryOp { MB_ALL_UNARY_OPS(MB_ENUM_ENTRY) };
enum class BinaryOp { MB_BINARY_OPS(MB_ENUM_ENTRY) };
enum class CompareOp { MB_COMPARE_OPS(MB_ENUM_ENTRY) };
#undef MB_ENUM_ENTRY

// Scalar formulas as functions: unary_fwd<UnaryOp::exp>(x, s) etc.
template <UnaryOp op, class T> MB_HD T unary_fwd(T x, T s) {
  (void)s;
#define MB_CASE(name, f, d) if constexpr (op == UnaryOp::name) return f; else
  MB_ALL_UNARY_OPS(MB_CASE) return T(0);
#undef MB_CASE
}
template <UnaryOp op, class T> MB_HD T unary_grad(T x, T y, T s) {
  (void)x; (void)y; (void)s;
#define MB_CASE(name, f, d) if constexpr (op == UnaryOp::name) return d; else
  MB_ALL_UNARY_OPS(MB_CASE) return T(0);
#undef MB_CASE
}
template <BinaryOp op, class T> MB_HD T binary_fwd(T a, T b) {
#define MB_CASE(name, f, da, db) if constexpr (op == BinaryOp::name) return f; else
  MB_BINARY_OPS(MB_CASE) return T(0);
#undef MB_CASE
}
template <BinaryOp op, class T> MB_HD T binary_grad_a(T a, T b, T y) {
  (void)a; (void)b; (void)y;
#define MB_CASE(name, f, da, db) if constexpr (op == BinaryOp::name) return da; else
  MB_BINARY_OPS(MB_CASE) return T(0);
#undef MB_CASE
}
template <BinaryOp op, class T> MB_HD T binary_grad_b(T a, T b, T y) {
  (void)a; (void)b; (void)y;
#define MB_CASE(name, f, da, db) if constexpr (op == BinaryOp::name) return db; else
  MB_BINARY_OPS(MB_CASE) return T(0);
#undef MB_CASE
}
template <CompareOp op, class T> MB_HD bool compare_fwd(T a, T b) {
#define MB_CASE(name, p) if constexpr (op == CompareOp::name) return p; else
  MB_COMPARE_OPS(MB_CASE) return false;
#undef MB_CASE
}

// Calls f(std::integral_constant<Op, op>{}) for a runtime op: how a backend turns the op
// into the template argument of its kernel (one instantiation per op).
#define MB_VISIT_CASE(name, ...) \
  case decltype(op)::name: return f(std::integral_constant<decltype(op), decltype(op)::name>{});
template <class F> decltype(auto) visit_op(UnaryOp op, F&& f) {
  switch (op) { MB_ALL_UNARY_OPS(MB_VISIT_CASE) }
  return f(std::integral_constant<UnaryOp, UnaryOp::neg>{});
}
template <class F> decltype(auto) visit_op(BinaryOp op, F&& f) {
  switch (op) { MB_BINARY_OPS(MB_VISIT_CASE) }
  return f(std::integral_constant<BinaryOp, BinaryOp::add>{});
}
template <class F> decltype(auto) visit_op(CompareOp op, F&& f) {
  switch (op) { MB_COMPARE_OPS(MB_VISIT_CASE) }
  return f(std::integral_constant<CompareOp, CompareOp::eq>{});
}
#undef MB_VISIT_CASE

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(CompareOp op);

}  // namespace mb
