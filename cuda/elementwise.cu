// CUDA elementwise kernels: the formulas of tensor/elementwise_ops.h (the same ones the CPU
// expands) applied 16 bytes at a time when every operand is contiguous (map_packed), over
// strided operands by cuda::for_each otherwise. f32 and f64 compute in their own
// type; bf16 storage computes in float.
#include "cuda/kernels.h"
#include "cuda/strided.cuh"

namespace mb::cuda {
namespace {

template <UnaryOp op, class T> void unary_t(const Tensor& x, double s, const Tensor& y) {
  using A = acc_t<T>;
  const T* xp = ptr<T>(x);
  T* yp = ptr<T>(y);
  const A sa = A(s);
  if (map_packed<T, 1>(y, {&x}, [=] __device__(const A(&v)[1]) { return unary_fwd<op, A>(v[0], sa); })) return;
  for_each<2>(y.shape(), {&y, &x}, [=] __device__(const int64_t(&o)[2]) {
    store(yp + o[0], unary_fwd<op, A>(load(xp + o[1]), sa));
  });
}

template <UnaryOp op, class T>
void unary_backward_t(const Tensor& x, const Tensor& y, double s, const Tensor& gy, const Tensor& gx) {
  using A = acc_t<T>;
  const T *xp = ptr<T>(x), *yp = ptr<T>(y), *gyp = ptr<T>(gy);
  T* gxp = ptr<T>(gx);
  const A sa = A(s);
  if (map_packed<T, 3>(gx, {&x, &y, &gy},
                       [=] __device__(const A(&v)[3]) { return v[2] * unary_grad<op, A>(v[0], v[1], sa); }))
    return;
  for_each<4>(gx.shape(), {&gx, &x, &y, &gy}, [=] __device__(const int64_t(&o)[4]) {
    store(gxp + o[0], load(gyp + o[3]) * unary_grad<op, A>(load(xp + o[1]), load(yp + o[2]), sa));
  });
}

template <BinaryOp op, class T> void binary_t(const Tensor& a, const Tensor& b, const Tensor& out) {
  using A = acc_t<T>;
  const T *ap = ptr<T>(a), *bp = ptr<T>(b);
  T* op_ = ptr<T>(out);
  if (map_packed<T, 2>(out, {&a, &b}, [=] __device__(const A(&v)[2]) { return binary_fwd<op, A>(v[0], v[1]); })) return;
  for_each<3>(out.shape(), {&out, &a, &b}, [=] __device__(const int64_t(&o)[3]) {
    store(op_ + o[0], binary_fwd<op, A>(load(ap + o[1]), load(bp + o[2])));
  });
}

// g = gy * dy/da (which = 0) or gy * dy/db (which = 1), over out's shape
template <BinaryOp op, class T>
void binary_grad_t(int which, const Tensor& a, const Tensor& b, const Tensor& y, const Tensor& gy,
                   const Tensor& g) {
  using A = acc_t<T>;
  const T *ap = ptr<T>(a), *bp = ptr<T>(b), *yp = ptr<T>(y), *gyp = ptr<T>(gy);
  T* gp = ptr<T>(g);
  if (map_packed<T, 4>(g, {&a, &b, &y, &gy}, [=] __device__(const A(&v)[4]) {
        return v[3] * (which == 0 ? binary_grad_a<op, A>(v[0], v[1], v[2]) : binary_grad_b<op, A>(v[0], v[1], v[2]));
      }))
    return;
  for_each<5>(g.shape(), {&g, &a, &b, &y, &gy}, [=] __device__(const int64_t(&o)[5]) {
    const A av = load(ap + o[1]), bv = load(bp + o[2]), yv = load(yp + o[3]);
    const A d = which == 0 ? binary_grad_a<op, A>(av, bv, yv) : binary_grad_b<op, A>(av, bv, yv);
    store(gp + o[0], load(gyp + o[4]) * d);
  });
}

template <CompareOp op, class T> void compare_t(const Tensor& a, const Tensor& b, const Tensor& out) {
  using A = acc_t<T>;
  const T *ap = ptr<T>(a), *bp = ptr<T>(b);
  uint8_t* op_ = ptr<uint8_t>(out);
  for_each<3>(out.shape(), {&out, &a, &b}, [=] __device__(const int64_t(&o)[3]) {
    op_[o[0]] = compare_fwd<op, A>(load(ap + o[1]), load(bp + o[2])) ? 1 : 0;
  });
}

template <class T> void where_t(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const uint8_t* cp = ptr<uint8_t>(cond);
  const T *ap = ptr<T>(a), *bp = ptr<T>(b);
  T* op_ = ptr<T>(out);
  for_each<4>(out.shape(), {&out, &cond, &a, &b}, [=] __device__(const int64_t(&o)[4]) {
    op_[o[0]] = cp[o[1]] ? ap[o[2]] : bp[o[3]];
  });
}

}  // namespace

void unary(UnaryOp op, const Tensor& x, double s, const Tensor& y) {
  visit_floating(y.dtype(), [&](auto z) {
    visit_op(op, [&](auto o) { unary_t<decltype(o)::value, decltype(z)>(x, s, y); });
  });
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, double s, const Tensor& gy,
                    const Tensor& gx) {
  visit_floating(gx.dtype(), [&](auto z) {
    visit_op(op, [&](auto o) { unary_backward_t<decltype(o)::value, decltype(z)>(x, y, s, gy, gx); });
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_floating(out.dtype(), [&](auto z) {
    visit_op(op, [&](auto o) { binary_t<decltype(o)::value, decltype(z)>(a, b, out); });
  });
}

void binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& y,
                     const Tensor& gy, const Tensor& ga, const Tensor& gb) {
  visit_floating(gy.dtype(), [&](auto z) {
    visit_op(op, [&](auto o) {
      if (ga.defined()) binary_grad_t<decltype(o)::value, decltype(z)>(0, a, b, y, gy, ga);
      if (gb.defined()) binary_grad_t<decltype(o)::value, decltype(z)>(1, a, b, y, gy, gb);
    });
  });
}

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_all(a.dtype(), [&](auto z) {
    visit_op(op, [&](auto o) { compare_t<decltype(o)::value, decltype(z)>(a, b, out); });
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_all(out.dtype(), [&](auto z) { where_t<decltype(z)>(cond, a, b, out); });
}

}  // namespace mb::cuda
