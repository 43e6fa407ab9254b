// The CPU oracle of the kernel lab: plain loops, float in and out, double inside. Every GPU
// kernel version is checked against these. This part is ordinary C++ (no CUDA): it builds and
// its self-checks run on any machine.
#pragma once

namespace lab::oracle {

// y[r, :] = softmax(x[r, :]) for each of `rows` rows of `cols` values (max subtracted first).
void softmax_rows(const float* x, float* y, int rows, int cols);

// y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * w + b, with the biased variance of the row.
void layernorm_forward(const float* x, const float* w, const float* b, float* y, int rows, int cols,
                       float eps);

// Causal self-attention forward. q, k, v and out are (B, H, T, D), contiguous:
// out[b,h,i,:] = sum_{j<=i} softmax_j(q_i . k_j / sqrt(D)) v[b,h,j,:].
void attention_causal(const float* q, const float* k, const float* v, float* out, int B, int H,
                      int T, int D);

// C = A . B, row-major: A is (M, K), B is (K, N), C is (M, N).
void gemm(const float* A, const float* B, float* C, int M, int N, int K);

// Checks the oracles themselves: hand-computed small cases and invariants (softmax rows sum to
// 1 and ignore a shift; layer norm gives mean 0 / variance 1 when w = 1, b = 0; causal
// attention at position 0 returns v[0]; a 2x3 . 3x2 product; attention for T = 1..3 against a
// second, independent loop in double). Prints one line per check; true when all pass.
bool self_check();

}  // namespace lab::oracle
