// The names of the elementwise ops, from their lists.
#include "tensor/elementwise_ops.h"

namespace mb {

#define MB_NAME(name, ...) #name,
const char* op_name(UnaryOp op) {
  static const char* n[] = {MB_ALL_UNARY_OPS(MB_NAME)};
  return n[int(op)];
}
const char* op_name(BinaryOp op) {
  static const char* n[] = {MB_BINARY_OPS(MB_NAME)};
  return n[int(op)];
}
const char* op_name(CompareOp op) {
  static const char* n[] = {MB_COMPARE_OPS(MB_NAME)};
  return n[int(op)];
}
#undef MB_NAME

}  // namespace mb
