// The CPU dispatch table.
#include "tensor/cpu/kernels.h"

namespace mb {

void cpu::synchronize() {}  // CPU kernels return when they are done
std::string cpu::device_description() { return "cpu"; }
size_t cpu::peak_memory() { return 0; }

const Kernels& cpu_kernels() {
  static const Kernels k = cpu::kernel_table();
  return k;
}

}  // namespace mb
