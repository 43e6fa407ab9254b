// The CPU dispatch table.
#include "tensor/cpu/kernels.h"

namespace mb {

void cpu::synchronize() {}  // CPU kernels return when they are done

const Kernels& cpu_kernels() {
  using namespace cpu;
  static const Kernels k = MB_KERNEL_TABLE;
  return k;
}

}  // namespace mb
