// The differentiable ops: the library's public maths. Each is defined in autograd/ops/ with
// its forward (a call into the device's kernels) and its backward rule side by side. Inputs
// must share a device and, for arithmetic, a dtype; a mismatch throws an mb::Error naming the
// op and both shapes and dtypes. Arithmetic runs in f32 or f64.
#pragma once
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.def"

namespace mb {

// ---- views (no copy) and copies ----
// One -1 is inferred. A view whenever x's strides allow one (always for a contiguous x); a
// copy only when they do not (e.g. merging two dims that a transpose swapped).
Tensor reshape(const Tensor& x, Shape shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
// elements start, start+step, ... < end along axis (negative start/end count from the end)
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t axis, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t axis, int64_t index);  // drops the axis; a view
Tensor expand(const Tensor& x, const Shape& shape);  // NumPy broadcast to `shape` (-1 keeps)
Tensor unsqueeze(const Tensor& x, int64_t axis);  // a view
Tensor squeeze(const Tensor& x, int64_t axis);    // a view
Tensor contiguous(const Tensor& x);  // x itself when already row-major
Tensor to(const Tensor& x, DType dtype);  // x itself when already of that dtype
Tensor to(const Tensor& x, Device device);
Tensor clone(const Tensor& x);  // always a fresh contiguous copy
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);

// ---- elementwise ----
#define MB_DECLARE_UNARY(name, ...) Tensor name(const Tensor& x);
MB_UNARY_OPS(MB_DECLARE_UNARY)
#undef MB_DECLARE_UNARY
// x + s, x * s, x^s, s - x, s / x, max(x, s), min(x, s)
#define MB_DECLARE_SCALAR(name, ...) Tensor name(const Tensor& x, double s);
MB_SCALAR_OPS(MB_DECLARE_SCALAR)
#undef MB_DECLARE_SCALAR

#define MB_DECLARE_BINARY(name, ...) Tensor name(const Tensor& a, const Tensor& b);
MB_BINARY_OPS(MB_DECLARE_BINARY)  // NumPy broadcasting
#undef MB_DECLARE_BINARY

#define MB_DECLARE_COMPARE(name, ...) Tensor name(const Tensor& a, const Tensor& b);
MB_COMPARE_OPS(MB_DECLARE_COMPARE)  // -> u8 mask, no gradient
#undef MB_DECLARE_COMPARE

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond u8, broadcast
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// Zeroes each element with probability p (stream (seed, offset) as in Tensor::rand) and
// scales the rest by 1/(1-p). The identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, bool training = true);

// ---- reductions (empty axes = all axes) ----
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false);
// variance with `correction` subtracted from the count (1: unbiased, as PyTorch's default)
Tensor var(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdim = false,
           int64_t correction = 1);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);  // i64, no gradient
// Sums a broadcast gradient back to `shape` (the inverse of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);
// Whether every element is finite (no NaN, no infinity); integer tensors always are.
bool all_finite(const Tensor& x);

// ---- linear algebra and fused ops ----
// (..., M, K) @ (..., K, N) -> (..., M, N); batch dims broadcast; a 1-D operand is a vector.
Tensor matmul(const Tensor& a, const Tensor& b);
// x Wᵀ + b for x (..., in), W (out, in) as PyTorch lays it out, b (out) or undefined: one GEMM
// that starts from the bias, Wᵀ read in place.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
// relu(linear(x, W, b)) as one op: the ReLU in the GEMM's epilogue on CUDA (an MLP's first layer)
Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
// x (B, T, C) -> (B, T, C·K): row t holds x[t − K + 1 … t] (zeros before the start), channel c at
// offset k in column c·K + k. The copy a causal convolution multiplies.
Tensor unfold_causal(const Tensor& x, int64_t K);
// Causal 1-D convolution over time: x (B, T, C_in), w (C_out, C_in, K), b (C_out) or undefined
// -> (B, T, C_out); y[t] = b + Σ_k w[:, :, k] · x[t − (K−1) + k], with zeros before the start, so
// output t sees inputs t − K + 1 … t only.
Tensor conv1d_causal(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// over the last dim; weight and bias (C) may be undefined tensors
inline constexpr double kLayerNormEps = 1e-5;  // the default ε everywhere (PyTorch's)
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = kLayerNormEps);
// weight (V, D), idx (...) of u8/i32/i64 in [0, V) -> (..., D)
Tensor embedding(const Tensor& weight, const Tensor& idx);
// Its adjoint: src (N, D), idx (N) in [0, rows) -> (rows, D), row r the sum of the src rows
// whose index is r (zeros where none is). Gathering rows is embedding(x, idx); this puts
// them back (SpaceByte's global outputs, added at their boundary positions).
Tensor scatter_add_rows(const Tensor& src, const Tensor& idx, int64_t rows);
// Causal self-attention: softmax(q kᵀ · scale + causal mask) v over (B, H, T, D) inputs, with
// scale = 1/√D when scale <= 0. k and v may be longer than q (Tk >= Tq): queries are then the
// last Tq positions (a KV cache). Never stores the T x T matrix.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale = 0);
// The same over a packed projection: qkv (B, T, 3·H·D) holds q, k, v side by side (head j of
// q in columns j·D … (j+1)·D − 1, then k, then v) -> (B, T, H·D), the heads concatenated. Reads
// its heads in place and writes the gradient of qkv in one piece: no split, no transposes.
Tensor attention_qkv(const Tensor& qkv, int64_t heads, double scale = 0);
// Rotary position embedding (Su et al. 2021) of x (..., T, D), D even, at positions offset …
// offset + T − 1: the pair (x_i, x_{i+D/2}) turns by position · 10000^(−2i/D). After it, the
// dot product of a query and a key depends on their positions' difference only.
Tensor rope(const Tensor& x, int64_t offset = 0);
enum class Reduction { mean, sum, none };
// logits (..., V), targets (...) integer class ids in [0, V): -log softmax(logits)[target]
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     Reduction reduction = Reduction::mean);

// ---- operators ----
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
inline Tensor operator-(double s, const Tensor& a) { return rsub_scalar(a, s); }
inline Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); }
inline Tensor operator/(double s, const Tensor& a) { return rdiv_scalar(a, s); }

// ---- the ops with a gradient, for tests/test_gradcheck.cpp: each entry has a gradcheck case
// there, named after it (`to` checks both conversions; checkpoint is in autograd/checkpoint.h);
// and the ops without one (an integer result). Both lists come from autograd/ops.def.
#define MB_DIFFERENTIABLE_OPS(X) MB_ALL_UNARY_OPS(X) MB_BINARY_OPS(X) MB_OPS(MB_OP_SELECT_DIFF, X)
#define MB_NONDIFFERENTIABLE_OPS(X) MB_COMPARE_OPS(X) MB_OPS(MB_OP_SELECT_NONE, X)

// ---- in place, outside autograd (optimizers, initialisation): dst must not require grad
// unless grad mode is off ----
void copy_(const Tensor& dst, const Tensor& src);  // src broadcast to dst, dtype converted
void fill_(const Tensor& dst, double value);

}  // namespace mb
