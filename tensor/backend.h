// Dispatch: every device provides the same table of kernels (tensor/kernels.def lists them,
// with the contract of each). An op looks up the table of its inputs' device and calls the
// entry; the CPU table is in tensor/cpu/, the CUDA table in cuda/ registers itself when that
// backend is built.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/elementwise_ops.h"
#include "tensor/tensor.h"

namespace mb {

enum class ReduceOp { sum, max, argmax };

// One AdamW update (PyTorch's order): p ← p·(1 − lr·wd); g ← g·grad_scale;
// m ← m + (1 − β1)(g − m); v ← β2·v + (1 − β2)·g²; p ← p − lr/bc1 · m / (√v / bc2_sqrt + ε)
// (wd = weight_decay for the tensors that decay, 0 for the others)
struct AdamWStep {
  double lr, beta1, beta2, eps, weight_decay;
  double bias_correction1;       // 1 − β1ᵗ
  double bias_correction2_sqrt;  // √(1 − β2ᵗ)
  double grad_scale;             // the clipping coefficient, 1 when not clipping
};

// One parameter's tensors for the AdamW kernel: all contiguous, of one shape and dtype.
struct AdamWTensors {
  Tensor p, g, m, v;
  bool decay;  // weight decay applies (matrices, not biases or norms)
};

// The dispatch table: one slot per kernel of tensor/kernels.def (where each kernel's contract is).
struct Kernels {
#define MB_KERNEL(ret, name, params) ret(*name) params;
#include "tensor/kernels.def"
#undef MB_KERNEL
};

const Kernels& cpu_kernels();  // tensor/cpu/kernels.cpp

// The `linear` kernels made of a table's copy, bmm and reduce: the CPU's in f64 and without a
// SIMD GEMM, and the CUDA backend's where cuBLASLt does not take an epilogue (tensor/backend.cpp).
void linear_by_gemm(const Kernels& k, const Tensor& x, const Tensor& w, const Tensor& b, bool relu, const Tensor& y);
void linear_backward_weight_by_gemm(const Kernels& k, const Tensor& x, const Tensor& gy, const Tensor& gw,
                                    const Tensor& gb);

// The table for a device; throws if that backend is not built or has no device. The first ask
// for the CUDA device loads the CUDA module (tensor/backend.cpp).
const Kernels& kernels(Device d);
void register_backend(Device d, const Kernels* k);
bool backend_available(Device d);
// Why backend_available(d) is false, in words ("" when it is true).
std::string backend_unavailable_reason(Device d);

// Copies between devices (contiguous, same dtype); provided by a non-CPU backend.
using CrossDeviceCopy = void (*)(const Tensor& src, const Tensor& dst);
void register_cross_device_copy(CrossDeviceCopy f);
void copy_across_devices(const Tensor& src, const Tensor& dst);

}  // namespace mb
