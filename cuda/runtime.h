// CUDA backend interface (built when MB_CUDA is ON).
#pragma once
#include <vector>

namespace mb::cuda {

int device_count();  // 0 when there is no driver or no device

// Writes 0, 1, ..., n-1 with a kernel and copies it back: proves the toolchain, the driver
// and the device work together (empty on any CUDA error).
std::vector<float> iota_on_device(int n);

}  // namespace mb::cuda
