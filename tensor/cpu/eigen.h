// Eigen for the CPU kernels. GCC 12 reports -W(maybe-)uninitialized inside its own AVX-512
// intrinsics (the `__m512 __Y = __Y;` idiom) when Eigen's GEMM is built for AVX-512; the report
// is raised while optimising the whole file, so it is silenced for the files that include this
// header, not around the include.
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Core>
#include <cmath>

namespace mb::cpu {

// exp(x) with every result below T's smallest normal number flushed to 0, vectorised.
// Eigen's own exp clamps its input at about -88.4, so exp(-inf) comes out as 2.9e-39: a
// subnormal where a masked score must weigh exactly 0, and slow (subnormal inputs and results
// take a microcode assist on x86, 2-3x a whole training step on Intel when half of every
// causal score block is one). Here the input is clamped to log(min normal) first, so no step
// of the exp makes a subnormal, and the clamped lanes are zeroed.
template <class T> struct exp_ftz_op {
  // log(min normal), rounded up: f32 -87.336544750..., f64 -708.396418532264...
  static constexpr T lo() { return sizeof(T) == 4 ? T(-87.33654f) : T(-708.39641853226); }
  T operator()(T x) const { return x < lo() ? T(0) : std::exp(x); }
  template <class P> P packetOp(const P& x) const {
    namespace in = Eigen::internal;
    const P l = in::pset1<P>(lo());
    return in::pandnot(in::pexp(in::pmax(x, l)), in::pcmp_lt(x, l));
  }
};
template <class A> auto exp_ftz(const A& x) { return x.unaryExpr(exp_ftz_op<typename A::Scalar>()); }

}  // namespace mb::cpu

namespace Eigen::internal {
template <class T> struct functor_traits<mb::cpu::exp_ftz_op<T>> {
  enum { Cost = 20 * NumTraits<T>::MulCost, PacketAccess = packet_traits<T>::HasExp };
};
}  // namespace Eigen::internal
