// The op list: every op of the library, once. Autograd nodes record their op from this list;
// the gradcheck test walks it and fails for any differentiable op that has no gradcheck case.
//
// Use: #define MB_OP_ITEM(name, differentiable) ..., expand MB_ALL_OPS, #undef MB_OP_ITEM.
// The elementwise ops come from their own lists in tensor/elementwise_ops.h.
#pragma once
#include "tensor/elementwise_ops.h"

#define MB_OP_AS_DIFF(name, ...) MB_OP_ITEM(name, 1)
#define MB_OP_AS_NODIFF(name, ...) MB_OP_ITEM(name, 0)

#define MB_OTHER_OPS                                                               \
  /* views and copies */                                                           \
  MB_OP_ITEM(reshape, 1) MB_OP_ITEM(permute, 1) MB_OP_ITEM(slice, 1)               \
  MB_OP_ITEM(expand, 1) MB_OP_ITEM(contiguous, 1) MB_OP_ITEM(to_dtype, 1)          \
  MB_OP_ITEM(transpose, 1) MB_OP_ITEM(unsqueeze, 1) MB_OP_ITEM(squeeze, 1)         \
  MB_OP_ITEM(select, 1) MB_OP_ITEM(split, 1) MB_OP_ITEM(concat, 1)                 \
  /* selection */                                                                  \
  MB_OP_ITEM(where, 1) MB_OP_ITEM(masked_fill, 1)                                  \
  /* reductions */                                                                 \
  MB_OP_ITEM(sum, 1) MB_OP_ITEM(mean, 1) MB_OP_ITEM(max, 1) MB_OP_ITEM(var, 1)     \
  MB_OP_ITEM(argmax, 0)                                                            \
  /* linear algebra and fused ops */                                               \
  MB_OP_ITEM(matmul, 1) MB_OP_ITEM(linear, 1) MB_OP_ITEM(unfold_causal, 1) MB_OP_ITEM(conv1d_causal, 1) MB_OP_ITEM(softmax, 1) MB_OP_ITEM(log_softmax, 1)          \
  MB_OP_ITEM(layer_norm, 1) MB_OP_ITEM(embedding, 1) MB_OP_ITEM(attention, 1)      \
  MB_OP_ITEM(attention_qkv, 1) MB_OP_ITEM(rope, 1)                                  \
  MB_OP_ITEM(cross_entropy, 1) MB_OP_ITEM(dropout, 1) MB_OP_ITEM(checkpoint, 1)

#define MB_ALL_OPS                       \
  MB_ALL_UNARY_OPS(MB_OP_AS_DIFF)        \
  MB_BINARY_OPS(MB_OP_AS_DIFF)           \
  MB_COMPARE_OPS(MB_OP_AS_NODIFF)        \
  MB_OTHER_OPS

namespace mb {

#define MB_OP_ITEM(name, d) name,
enum class OpKind { MB_ALL_OPS };
#undef MB_OP_ITEM

// The op-list entry of an elementwise op.
#define MB_KIND_CASE(name, ...) case decltype(op)::name: return OpKind::name;
constexpr OpKind op_kind(UnaryOp op) {
  switch (op) { MB_ALL_UNARY_OPS(MB_KIND_CASE) }
  return OpKind::neg;
}
constexpr OpKind op_kind(BinaryOp op) {
  switch (op) { MB_BINARY_OPS(MB_KIND_CASE) }
  return OpKind::add;
}
#undef MB_KIND_CASE

const char* op_name(OpKind k);
const char* op_backward_name(OpKind k);  // "<name> backward"
bool op_differentiable(OpKind k);
int op_count();
OpKind op_at(int i);

}  // namespace mb
