// What the CUDA attention implementations share: attention.cu (any float dtype, CUDA cores,
// the general path and the oracle of the others), attention_mma.cu (bf16 on tensor cores, the
// global model's training path when the shapes allow it) and attention_short.cu (a warp per
// sequence of at most 16 keys: the local model's patches). Operands are (B, H, T, D) views whose
// last dim has stride 1; query i of Tq sits at position Tk - Tq + i and sees keys 0 .. Tk - Tq + i.
#pragma once
#include "cuda/common.cuh"

namespace mb::cuda {

// Strides (elements) of dims 0, 1, 2 of a (B, H, T, D) view; dim 3 has stride 1.
struct Head {
  int64_t sb, sh, st;
};
inline Head head_of(const Tensor& t) { return {t.strides()[0], t.strides()[1], t.strides()[2]}; }
template <class P> __device__ __forceinline__ P* at(P* base, Head v, int64_t b, int64_t h, int64_t t) {
  return base + b * v.sb + h * v.sh + t * v.st;
}

struct Dims {
  int64_t H, BH, Tq, Tk;  // BH = B·H; query i sees keys 0 .. Tk - Tq + i
  int D;
};
inline Dims dims_of(const Tensor& q, const Tensor& k) {
  return {q.shape()[1], q.shape()[0] * q.shape()[1], q.shape()[2], k.shape()[2], int(q.shape()[3])};
}

// One call's operands as the kernels read them: base pointers, head strides and sizes. o is
// the forward's output (the same tensor as out, writable); the gradients only in a backward.
template <class T> struct Operands {
  const T *q, *k, *v, *out, *gout;
  T *o, *gq, *gk, *gv;
  Head qh, kh, vh, oh, goh, gqh, gkh, gvh;
  Dims n;
};
template <class T>
void set_forward(Operands<T>& a, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out) {
  a.q = ptr<T>(q);
  a.k = ptr<T>(k);
  a.v = ptr<T>(v);
  a.out = a.o = ptr<T>(out);
  a.qh = head_of(q);
  a.kh = head_of(k);
  a.vh = head_of(v);
  a.oh = head_of(out);
  a.n = dims_of(q, k);
}
template <class T>
void set_gradients(Operands<T>& a, const Tensor& gout, const Tensor& gq, const Tensor& gk, const Tensor& gv) {
  a.gout = ptr<T>(gout);
  a.gq = ptr<T>(gq);
  a.gk = ptr<T>(gk);
  a.gv = ptr<T>(gv);
  a.goh = head_of(gout);
  a.gqh = head_of(gq);
  a.gkh = head_of(gk);
  a.gvh = head_of(gv);
}

// Whether every row of a (B, H, T, D) view of T elements starts on 16 bytes and D is whole
// 16-byte packs: what 16-byte loads of its rows need.
template <class T> bool rows_on_16_bytes(const Tensor& t) {
  const int64_t W = 16 / int64_t(sizeof(T));
  if (t.shape()[3] % W != 0 || reinterpret_cast<uintptr_t>(t.raw_data()) % 16 != 0) return false;
  for (int d = 0; d < 3; ++d)
    if (t.strides()[size_t(d)] % W != 0) return false;
  return true;
}

unsigned attention_grid(int64_t blocks);  // checked against the grid's limit
// Raises a kernel's dynamic shared memory limit past the default 48 KB (call once per kernel).
template <class K> void allow_smem(K kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    MB_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
}

// The tensor-core path (attention_mma.cu): true when it took the call, false when the shapes,
// layout or device do not suit it (then the caller runs the general kernels). lse is f32.
bool attention_mma(const Tensor& q, const Tensor& k, const Tensor& v, double scale, const Tensor& out,
                   const Tensor& lse);
bool attention_mma_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& lse,
                            const Tensor& gout, double scale, const Tensor& gq, const Tensor& gk, const Tensor& gv);

// Sequences of at most 16 keys (attention_short.cu), a warp each: true when it took the call.
bool attention_short(const Tensor& q, const Tensor& k, const Tensor& v, double scale, const Tensor& out,
                     const Tensor& lse);
bool attention_short_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                              const Tensor& lse, const Tensor& gout, double scale, const Tensor& gq, const Tensor& gk,
                              const Tensor& gv);

}  // namespace mb::cuda
