#include "nn/distributed.h"

#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/backend.h"

#ifdef MB_HAVE_MPI
#include <mpi.h>
#endif

namespace mb::nn {

// ---------------------------------------------------------------- the world

#ifdef MB_HAVE_MPI
namespace {
// Open MPI, MPICH and Slurm's PMI each leave one of these in a launched process's environment.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}
}  // namespace
#endif

namespace {
// The NCCL functions of the CUDA module (cuda/nccl.cu), when it was built with them.
struct Nccl {
  int (*id_bytes)();
  const char* (*unique_id)(void* id);
  const char* (*init)(const void* id, int rank, int size);
  const char* (*allreduce_sum)(void* data, long long count, int f64);
};
const Nccl* nccl_functions() {
  static const Nccl f = [] {
    Nccl n{};
    if (!backend_available(Device::CUDA)) return n;  // loads the module, RTLD_GLOBAL
    n.id_bytes = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "mb_nccl_id_bytes"));
    n.unique_id = reinterpret_cast<const char* (*)(void*)>(dlsym(RTLD_DEFAULT, "mb_nccl_unique_id"));
    n.init = reinterpret_cast<const char* (*)(const void*, int, int)>(dlsym(RTLD_DEFAULT, "mb_nccl_init"));
    n.allreduce_sum = reinterpret_cast<const char* (*)(void*, long long, int)>(dlsym(RTLD_DEFAULT, "mb_nccl_allreduce_sum"));
    return n;
  }();
  return f.id_bytes && f.unique_id && f.init && f.allreduce_sum ? &f : nullptr;
}
}  // namespace

World& World::get() {
  static World w;
  return w;
}

World::World() {
#ifdef MB_HAVE_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // only the main thread calls MPI
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  mpi_ = true;
  // one GPU per rank on a machine: the launcher's local rank picks it (cuda/backend.cu)
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* local = std::getenv(v)) {
      setenv("MB_CUDA_DEVICE", local, 0);
      break;
    }
#endif
}

World::~World() {
#ifdef MB_HAVE_MPI
  int done = 0;
  if (mpi_ && MPI_Finalized(&done) == MPI_SUCCESS && !done) MPI_Finalize();
#endif
}

double World::sum(double v) const {
#ifdef MB_HAVE_MPI
  if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#endif
  return v;
}

bool World::any(bool v) const {
#ifdef MB_HAVE_MPI
  int x = v ? 1 : 0;
  if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return x != 0;
#else
  return v;
#endif
}

bool World::nccl() const {
#ifdef MB_HAVE_MPI
  static const bool ready = [this] {
    const Nccl* f = nccl_functions();
    if (!f || size_ == 1) return false;
    std::vector<char> id(size_t(f->id_bytes()));
    const char* err = rank_ == 0 ? f->unique_id(id.data()) : nullptr;
    MB_CHECK(!err, "NCCL: ", err);
    MPI_Bcast(id.data(), int(id.size()), MPI_CHAR, 0, MPI_COMM_WORLD);
    err = f->init(id.data(), rank_, size_);
    MB_CHECK(!err, "NCCL on rank ", rank_, ": ", err);
    return true;
  }();
  return ready;
#else
  return false;
#endif
}

void World::abort(int code) const {
#ifdef MB_HAVE_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

// ---------------------------------------------------------------- gradient buckets

struct GradReducer::Bucket {
  std::vector<size_t> params;
  int64_t numel = 0;
  DType dtype = DType::F32;
  Tensor flat;  // (numel): the gradients packed, summed in place (host for MPI, GPU for NCCL)
  size_t ready = 0;
  bool started = false;
#ifdef MB_HAVE_MPI
  MPI_Request request = MPI_REQUEST_NULL;
#endif
};

GradReducer::GradReducer(const World& world, const std::vector<Tensor*>& params, size_t bucket_bytes)
    : world_(world), params_(params), bucket_of_(params.size()) {
  for (size_t k = params_.size(); k-- > 0;) {  // reverse order: the last layers' gradients come first
    const Tensor& p = *params_[k];
    MB_CHECK(p.dtype() == DType::F32 || p.dtype() == DType::F64, "data parallelism: parameter of dtype ",
             dtype_name(p.dtype()), " (f32 or f64 gradients only)");
    const size_t bytes = size_t(p.numel()) * dtype_size(p.dtype());
    if (buckets_.empty() || buckets_.back().dtype != p.dtype() ||
        size_t(buckets_.back().numel) * dtype_size(p.dtype()) + bytes > bucket_bytes)
      buckets_.emplace_back().dtype = p.dtype();
    Bucket& b = buckets_.back();
    b.params.push_back(k);
    b.numel += p.numel();
    bucket_of_[k] = buckets_.size() - 1;
  }
  // where the buckets live: on the GPU when NCCL sums there, else on the host for MPI
  const Device d = params_.empty() ? Device::CPU : params_[0]->device();
  on_device_ = d == Device::CUDA && world_.size() > 1 && world_.nccl();
  for (Bucket& b : buckets_) b.flat = Tensor::empty({b.numel}, b.dtype, on_device_ ? d : Device::CPU);
  for (size_t k = 0; k < params_.size(); ++k) index_[&params_[k]->impl()] = k;
}

size_t GradReducer::buckets() const { return buckets_.size(); }

GradReducer::~GradReducer() {
  if (armed_) set_leaf_ready_hook({});
}

void GradReducer::begin() {
  if (world_.size() == 1) return;
  for (Bucket& b : buckets_) b.ready = 0, b.started = false;
  set_leaf_ready_hook([this](const TensorImpl& leaf) {
    if (auto it = index_.find(&leaf); it != index_.end()) ready(it->second);
  });
  armed_ = true;
}

void GradReducer::ready(size_t param) {
  Bucket& b = buckets_[bucket_of_[param]];
  if (++b.ready == b.params.size()) start(b);
#ifdef MB_HAVE_MPI
  for (Bucket& o : buckets_)  // let MPI move the ones in flight along
    if (!on_device_ && o.started && o.request != MPI_REQUEST_NULL) {
      int done = 0;
      MPI_Test(&o.request, &done, MPI_STATUS_IGNORE);
    }
#endif
}

// Packs the bucket's gradients (zeros for a parameter without one) and starts summing them.
void GradReducer::start(Bucket& b) {
  NoGradGuard no_grad;
  int64_t at = 0;
  for (size_t k : b.params) {
    const Tensor& p = *params_[k];
    const Tensor part = narrow(b.flat, 0, at, p.numel());
    if (p.grad().defined()) copy_(part, reshape(p.grad(), {p.numel()}));
    else fill_(part, 0.0);
    at += p.numel();
  }
  b.started = true;
  if (on_device_) {  // on the stream, after the copies above: nothing to wait for on the host
    const char* err = nccl_functions()->allreduce_sum(b.flat.raw_data(), b.numel, b.dtype == DType::F64);
    MB_CHECK(!err, "NCCL: ", err);
    return;
  }
#ifdef MB_HAVE_MPI
  MPI_Iallreduce(MPI_IN_PLACE, b.flat.raw_data(), int(b.numel), b.dtype == DType::F64 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM,
                 MPI_COMM_WORLD, &b.request);
#endif
}

void GradReducer::end() {
  if (world_.size() == 1) return;
  set_leaf_ready_hook({});
  armed_ = false;
  NoGradGuard no_grad;
  const auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) {  // every rank starts the buckets in the same order
    if (!b.started) start(b);
#ifdef MB_HAVE_MPI
    if (!on_device_) MPI_Wait(&b.request, MPI_STATUS_IGNORE);
#endif
  }
  wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double inv = 1.0 / double(world_.size());
  for (Bucket& b : buckets_) {
    int64_t at = 0;
    for (size_t k : b.params) {
      Tensor& p = *params_[k];
      const Tensor avg = mul_scalar(reshape(narrow(b.flat, 0, at, p.numel()), p.shape()), inv);
      if (!p.grad().defined()) p.set_grad(Tensor::zeros(p.shape(), p.dtype(), p.device()));
      copy_(p.grad(), avg);
      at += p.numel();
    }
  }
}

}  // namespace mb::nn
