// The CUDA backend's kernels, one per entry of the dispatch table (tensor/backend.h has the
// contract of each; the CPU twins in tensor/cpu/ are the oracle the gpu tests compare with).
// Grouped by file: memory.cu (allocator, copies, fill, random), elementwise.cu, reduce.cu,
// matmul.cu (cuBLAS), rows.cu (softmax, layer norm, cross-entropy), optim.cu, gather.cu
// (embedding, unfold/fold), attention.cu. All run on cuda::stream(); none synchronises.
#pragma once
#include "tensor/backend.h"

namespace mb::cuda {

void* alloc(size_t nbytes);
void free(void* p);
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
void random(const Tensor& dst, uint64_t seed, uint64_t offset, bool normal);
void arange(const Tensor& dst, double begin);

void unary(UnaryOp op, const Tensor& x, double s, const Tensor& y);
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, double s, const Tensor& gy,
                    const Tensor& gx);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& y,
                     const Tensor& gy, const Tensor& ga, const Tensor& gb);
void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

void reduce(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t N, const Tensor& out);

void bmm(const Tensor& a, const Tensor& b, const Tensor& out, bool accumulate);

void softmax(const Tensor& x, const Tensor& y, bool log);
void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, bool log);
void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                const Tensor& mean, const Tensor& rstd);
void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean,
                         const Tensor& rstd, const Tensor& gy, const Tensor& gx,
                         const Tensor& gw, const Tensor& gb);
void cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& losses,
                   const Tensor& lse);
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            const Tensor& gloss, const Tensor& glogits);

double sum_squares(const Tensor& x);
void adamw(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamWStep& s);

void embedding(const Tensor& weight, const Tensor& idx, const Tensor& out);
void embedding_backward(const Tensor& idx, const Tensor& gy, const Tensor& gweight);
void unfold_causal(const Tensor& x, int64_t K, const Tensor& cols);
void fold_causal(const Tensor& gcols, int64_t K, const Tensor& gx);

void attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
               const Tensor& out, const Tensor& lse);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                        const Tensor& lse, const Tensor& gout, double scale, const Tensor& gq,
                        const Tensor& gk, const Tensor& gv);

}  // namespace mb::cuda
