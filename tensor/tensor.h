// Tensor: a strided view (shape, strides, offset) over shared Storage, tagged with a dtype
// and a device, plus the autograd slots (requires_grad, grad, grad_fn) that autograd/ fills.
//
// A Tensor is a cheap handle (one shared_ptr): copying it aliases the same tensor, as in
// PyTorch. Views (reshape, permute, narrow, expand, ...) share Storage; contiguous() copies
// only when the strides are not already row-major.
//
// This header holds what needs no autograd: metadata, element access, creation. The
// differentiable ops live in autograd/ops.h.
#pragma once
#include <memory>
#include <ostream>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/error.h"

namespace mb {

struct Node;  // autograd/node.h

// A block of bytes on one device. Freed by the device's allocator when the last view dies.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;  // strides in elements
  int64_t offset = 0;    // in elements
  DType dtype = DType::F32;
  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that made this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (CPU unless a device is given) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::CPU);
  static Tensor arange(int64_t begin, int64_t end, DType dtype = DType::I64);
  static Tensor scalar(double value, DType dtype = DType::F32);  // 0-dim
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // N(0, 1) / U[0, 1) from the counter-based stream (seed, offset): element i of the result
  // depends only on (seed, offset + i), never on thread count or device.
  static Tensor randn(const Shape& shape, uint64_t seed, uint64_t offset = 0,
                      DType dtype = DType::F32);
  static Tensor rand(const Shape& shape, uint64_t seed, uint64_t offset = 0,
                     DType dtype = DType::F32);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- raw data (CPU) ----
  void* raw_data() const;  // address of element 0 of this view
  template <class T> T* data() const;  // checks dtype and device
  double item() const;                  // the one element of a numel()==1 tensor
  double at(const Shape& index) const;  // one element, bounds-checked
  template <class T> std::vector<T> to_vector() const;  // row-major copy of the elements

  // ---- autograd slots (the engine is in autograd/) ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);  // leaves of floating dtype only
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // The same data with no autograd history (shares storage).
  Tensor detach() const;

  // Allocates a tensor of the same shape/dtype/device.
  Tensor empty_like() const { return empty(shape(), dtype(), device()); }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Row-major strides for a shape.
Shape contiguous_strides(const Shape& shape);
int64_t numel_of(const Shape& shape);
// A new view over t's storage (no autograd): used by the view ops and kernels.
Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);
// Normalises a possibly negative axis for a tensor of rank `dim`; `op` names the caller.
int64_t wrap_axis(int64_t axis, int64_t dim, const char* op);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

void set_printoptions(int precision = 4, int64_t edge_items = 3);  // like numpy's

}  // namespace mb
