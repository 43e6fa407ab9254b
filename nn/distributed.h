// Data parallelism across processes. `mpirun -np N megabyte train ...` starts N ranks; each
// holds the whole model, computes the gradients of its share of the batch, and the gradients
// are averaged over the ranks before clipping and AdamW, so every rank takes the same step.
// MPI launches and connects the processes and sums between them. Without MPI in the build, or
// when the program was not started by an MPI launcher, the world is this process alone and
// nothing below costs anything.
#pragma once
#include <cstddef>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace mb::nn {

class World {
 public:
  // The world of this process: MPI is initialised on the first call when an MPI launcher
  // started the process (and finalised at exit).
  static World& get();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // Sums over the ranks, every rank getting the same value.
  double sum(double v) const;
  bool any(bool v) const;  // true on every rank when true on one
  // Ends every rank of the job with `code` (after an error on one of them).
  [[noreturn]] void abort(int code) const;
  // NCCL between the ranks' GPUs (its communicator made on the first call): false where the
  // CUDA module has no NCCL, and then GPU gradients go through the host and MPI.
  bool nccl() const;

 private:
  World();
  ~World();
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

// Averages the gradients of `params` over the ranks. The parameters are cut into buckets of
// about `bucket_bytes` of gradients, in reverse order (roughly the order in which backward
// finishes them); during the backward() that begin() arms, each bucket's all-reduce starts as
// soon as its last gradient is final, so communication overlaps the rest of backward, as in
// PyTorch's DDP. end() waits for every bucket and writes back the averages.
class GradReducer {
 public:
  GradReducer(const World& world, const std::vector<Tensor*>& params, size_t bucket_bytes = size_t(4) << 20);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;
  void begin();  // before the step's last backward()
  void end();    // after it: the gradients hold the averages over the ranks
  double wait_seconds() const { return wait_s_; }  // in end(), summed over the calls: exposed communication
  size_t buckets() const;

 private:
  struct Bucket;
  void ready(size_t param);
  void start(Bucket& b);
  const World& world_;
  std::vector<Tensor*> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // param -> bucket
  std::unordered_map<const TensorImpl*, size_t> index_;  // a parameter's storage -> its place in params_
  double wait_s_ = 0;
  bool armed_ = false;
  bool on_device_ = false;  // GPU buckets summed by NCCL
};

}  // namespace mb::nn
