// The dispatch registry, and the CUDA backend as a module: a shared library
// (libmegabyte_cuda.so, beside this one) opened the first time a CUDA device is asked for; its
// static initialiser registers its table when a device is present. A CPU run never loads the
// CUDA runtime or cuBLAS.
#include "tensor/backend.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace mb {

namespace {
const Kernels* g_backends[2] = {nullptr, nullptr};
CrossDeviceCopy g_cross_copy = nullptr;
std::string g_why_not;  // why the CUDA backend is not there

void load_cuda_module() {
#ifdef MB_CUDA_MODULE
  if (g_backends[int(Device::CUDA)]) return;  // linked in already (the gpu tests)
  Dl_info self{};
  std::string path = MB_CUDA_MODULE;
  if (dladdr(reinterpret_cast<void*>(&load_cuda_module), &self) && self.dli_fname) {
    const std::string lib = self.dli_fname;
    path = lib.substr(0, lib.find_last_of('/') + 1) + MB_CUDA_MODULE;
  }
  if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char* e = dlerror();
    g_why_not = cat("the CUDA backend (", path, ") could not be loaded: ", e ? e : "unknown error");
  } else if (!g_backends[int(Device::CUDA)]) {
    g_why_not = "this build has the CUDA backend, but found no GPU";
  }
#else
  if (!g_backends[int(Device::CUDA)]) g_why_not = "this build has no CUDA backend: configure with -DMB_CUDA=ON";
#endif
}

void load(Device d) {
  static std::once_flag once;
  if (d == Device::CUDA) std::call_once(once, load_cuda_module);
}
}  // namespace

void register_backend(Device d, const Kernels* k) { g_backends[int(d)] = k; }

bool backend_available(Device d) {
  if (d == Device::CPU) return true;
  load(d);
  return g_backends[int(d)] != nullptr;
}

std::string backend_unavailable_reason(Device d) { return backend_available(d) ? "" : g_why_not; }

const Kernels& kernels(Device d) {
  if (d == Device::CPU) return cpu_kernels();  // always linked: no registration needed
  if (!g_backends[int(d)]) {
    load(d);
    MB_CHECK(g_backends[int(d)] != nullptr, "device ", device_name(d), " is not available: ", g_why_not);
  }
  return *g_backends[int(d)];
}

void register_cross_device_copy(CrossDeviceCopy f) { g_cross_copy = f; }
void copy_across_devices(const Tensor& src, const Tensor& dst) {
  MB_CHECK(g_cross_copy != nullptr, "copy from ", device_name(src.device()), " to ",
           device_name(dst.device()), ": no GPU backend is available");
  g_cross_copy(src, dst);
}

// y = b in every row, then y += x · wᵀ: the bias is the GEMM's starting value (no second pass);
// the ReLU a pass of its own
void linear_by_gemm(const Kernels& k, const Tensor& x, const Tensor& w, const Tensor& b, bool relu, const Tensor& y) {
  const int64_t rows = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  const Tensor y3 = make_view(y, {1, rows, out}, {0, out, 1}, y.offset());
  if (b.defined()) k.copy(make_view(b, {1, rows, out}, {0, 0, b.strides()[0]}, b.offset()), y3);
  else if (in == 0) k.fill(y, 0);
  if (in > 0)  // (else y = b: an empty product)
    k.bmm(make_view(x, {1, rows, in}, {0, in, 1}, x.offset()),
          make_view(w, {1, in, out}, {0, w.strides()[1], w.strides()[0]}, w.offset()), y3, b.defined());
  if (relu) k.unary(UnaryOp::relu, y, 0, y);
}

void linear_backward_weight_by_gemm(const Kernels& k, const Tensor& x, const Tensor& gy, const Tensor& gw,
                                    const Tensor& gb) {
  const int64_t rows = x.shape()[0], in = x.shape()[1], out = gy.shape()[1];
  if (rows == 0) {  // sums over no rows
    k.fill(gw, 0);
    if (gb.defined()) k.fill(gb, 0);
    return;
  }
  k.bmm(make_view(gy, {1, out, rows}, {0, 1, out}, gy.offset()), make_view(x, {1, rows, in}, {0, in, 1}, x.offset()),
        make_view(gw, {1, out, in}, {0, in, 1}, gw.offset()), false);
  if (gb.defined()) k.reduce(ReduceOp::sum, gy, 1, rows, out, gb);
}

}  // namespace mb
