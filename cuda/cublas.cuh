// cuBLAS and cuBLASLt status checks shared by matmul.cu and linear.cu: the failing call, file,
// line and the status by name.
#pragma once
#include <cublas_v2.h>

#include "cuda/common.cuh"

namespace mb::cuda {

inline const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}
#define MB_CUBLAS_CHECK(call)                                                                    \
  do {                                                                                           \
    const cublasStatus_t st_ = (call);                                                           \
    MB_CHECK(st_ == CUBLAS_STATUS_SUCCESS, "cuBLAS error in ", #call, " at ", __FILE__, ":", __LINE__, \
             ": ", ::mb::cuda::cublas_status_name(st_));                                        \
  } while (0)

bool tf32_enabled();  // cuda::set_tf32's setting (matmul.cu)

}  // namespace mb::cuda
