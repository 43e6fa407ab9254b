// Eigen for the CPU kernels. GCC 12 reports -W(maybe-)uninitialized inside its own AVX-512
// intrinsics (the `__m512 __Y = __Y;` idiom) when Eigen's GEMM is built for AVX-512; the report
// is raised while optimising the whole file, so it is silenced for the files that include this
// header, not around the include.
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <Eigen/Core>
