// The label of a graph node: which op recorded it. Backward errors name it and the profiler
// times each node's backward rule under "<name> backward". Every entry is recorded by exactly
// one op of autograd/ops/; composite ops (mean, narrow, rope, conv1d_causal, ...) record the
// nodes of the ops they are built from and have no entry here.
//
// The kinds come from the one table of ops, autograd/ops.def (its `node` and `kind` entries),
// which also makes the list of ops that need a gradient check (MB_DIFFERENTIABLE_OPS).
// tests/test_gradcheck.cpp checks that its cases, between them, build a node of every kind.
#pragma once
#include "autograd/ops.def"
#include "tensor/elementwise_ops.h"

// The nodes of the non-elementwise ops; X(name). The elementwise ones come from their own
// lists in tensor/elementwise_ops.h (the comparisons record none: they have no gradient).
#define MB_NODE_OPS(X) MB_OPS(MB_OP_SELECT_NODE, X)

#define MB_ALL_NODE_OPS(X) MB_ALL_UNARY_OPS(X) MB_BINARY_OPS(X) MB_NODE_OPS(X)

namespace mb {

#define MB_ENUM_ENTRY(name, ...) name,
enum class OpKind { MB_ALL_NODE_OPS(MB_ENUM_ENTRY) };
#undef MB_ENUM_ENTRY

// The node label of an elementwise op.
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
int op_kind_count();
OpKind op_kind_at(int i);

}  // namespace mb
