// NCCL for data parallelism on GPUs (nn/distributed.cpp): one communicator per process, made
// from a unique id that rank 0 draws and MPI broadcasts; all-reduces run on the backend's one
// stream, so they are ordered with the kernels around them and nothing waits on the host.
// C functions, found by name (dlsym) once the CUDA module is loaded: the core and nn/ do not
// link NCCL. Built only where NCCL is found (it ships with the CUDA toolkit).
#include <nccl.h>

#include <cstring>
#include <string>

#include "cuda/common.cuh"

namespace {
ncclComm_t g_comm = nullptr;
std::string g_error;
const char* failed(const char* what, ncclResult_t r) {
  g_error = std::string(what) + ": " + ncclGetErrorString(r);
  return g_error.c_str();
}
}  // namespace

extern "C" {

int mb_nccl_id_bytes() { return int(sizeof(ncclUniqueId)); }

const char* mb_nccl_unique_id(void* id) {
  ncclUniqueId u;
  if (const ncclResult_t r = ncclGetUniqueId(&u); r != ncclSuccess) return failed("ncclGetUniqueId", r);
  std::memcpy(id, &u, sizeof u);
  return nullptr;
}

// null, or what went wrong
const char* mb_nccl_init(const void* id, int rank, int size) {
  ncclUniqueId u;
  std::memcpy(&u, id, sizeof u);
  if (const ncclResult_t r = ncclCommInitRank(&g_comm, size, u, rank); r != ncclSuccess) return failed("ncclCommInitRank", r);
  return nullptr;
}

// data (count elements, f32 or f64) summed over the ranks in place, on the stream
const char* mb_nccl_allreduce_sum(void* data, long long count, int f64) {
  if (!g_comm) return "NCCL: no communicator (mb_nccl_init first)";
  const ncclResult_t r = ncclAllReduce(data, data, size_t(count), f64 ? ncclDouble : ncclFloat, ncclSum, g_comm,
                                       mb::cuda::stream());
  return r == ncclSuccess ? nullptr : failed("ncclAllReduce", r);
}

}  // extern "C"
