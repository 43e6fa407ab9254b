// The names of the node kinds, from their list.
#include "autograd/op_kind.h"

#include <string>
#include <vector>

namespace mb {
namespace {
#define MB_NAME(name, ...) #name,
const char* const kNames[] = {MB_ALL_NODE_OPS(MB_NAME)};
#undef MB_NAME
}  // namespace

const char* op_name(OpKind k) { return kNames[int(k)]; }
const char* op_backward_name(OpKind k) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const char* name : kNames) n.push_back(std::string(name) + " backward");
    return n;
  }();
  return names[size_t(k)].c_str();
}
int op_kind_count() { return int(sizeof(kNames) / sizeof(kNames[0])); }
OpKind op_kind_at(int i) { return OpKind(i); }

}  // namespace mb
