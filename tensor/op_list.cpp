#include "tensor/op_list.h"

#include <string>
#include <vector>

namespace mb {
namespace {
struct Info {
  const char* name;
  bool differentiable;
};
#define MB_OP_ITEM(name, d) {#name, d},
const Info kOps[] = {MB_ALL_OPS};
#undef MB_OP_ITEM
}  // namespace

const char* op_name(OpKind k) { return kOps[int(k)].name; }
const char* op_backward_name(OpKind k) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Info& i : kOps) n.push_back(std::string(i.name) + " backward");
    return n;
  }();
  return names[size_t(k)].c_str();
}
bool op_differentiable(OpKind k) { return kOps[int(k)].differentiable; }
int op_count() { return int(sizeof(kOps) / sizeof(kOps[0])); }
OpKind op_at(int i) { return OpKind(i); }

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
