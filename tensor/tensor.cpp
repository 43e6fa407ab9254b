#include "tensor/tensor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iomanip>

#include "tensor/backend.h"

namespace mb {

// ---------------------------------------------------------------- dtypes and shapes

size_t dtype_size(DType d) {
  return visit_dtype(d, [](auto v) { return sizeof(v); });
}

std::string to_string(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    // a product past 2^62 elements would wrap later, in a byte count or an index
    MB_CHECK(s <= 0 || n <= (int64_t(1) << 62) / s, "shape ", to_string(shape), " has more than 2^62 elements");
    n *= s;
  }
  return n;
}

void check_memory(double bytes, const std::string& what) {
  const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  MB_CHECK(have <= 0 || bytes <= have, what, " needs ", bytes_text(bytes), "; this machine has ", bytes_text(have),
           " of memory");
}

std::string bytes_text(double n) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int i = 0;
  while (n >= 1024 && i < 6) {
    n /= 1024;
    ++i;
  }
  char b[32];
  std::snprintf(b, sizeof b, i ? "%.1f %s" : "%.0f %s", n, unit[i]);
  return b;
}

std::string count_text(double n, const char* unit) {
  const char* prefix[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (n >= 1000 && i < 5) {
    n /= 1000;
    ++i;
  }
  char b[48];
  std::snprintf(b, sizeof b, i ? "%.2f %s%s" : "%.0f %s%s", n, prefix[i], unit);
  return b;
}

int64_t wrap_axis(int64_t axis, int64_t dim, const char* op) {
  const int64_t a = axis < 0 ? axis + dim : axis;
  MB_CHECK(a >= 0 && a < std::max<int64_t>(dim, 1), op, ": axis ", axis,
           " is out of range for a tensor of rank ", dim);
  return a;
}

// ---------------------------------------------------------------- storage and views

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) { data = kernels(d).alloc(n); }
Storage::~Storage() { kernels(device).free(data); }

TensorImpl& Tensor::impl() const {
  MB_CHECK(impl_ != nullptr, "use of an undefined (default-constructed) tensor");
  return *impl_;
}

Tensor make_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(impl);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape)
    MB_CHECK(s >= 0, "empty: negative dimension in shape ", to_string(shape));
  const int64_t n = numel_of(shape), size = int64_t(dtype_size(dtype));
  MB_CHECK(n <= INT64_MAX / size, "empty: ", to_string(shape), " ", dtype_name(dtype), " is more bytes than 2^63");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(n * size), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  kernels(device).fill(t, value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}
Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t begin, int64_t end, DType dtype) {
  MB_CHECK(end >= begin, "arange: end ", end, " is before begin ", begin);
  Tensor t = empty({end - begin}, dtype);
  kernels(Device::CPU).arange(t, double(begin));
  return t;
}

template <class T> Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  MB_CHECK(int64_t(values.size()) == numel_of(shape), "from_vector: ", values.size(),
           " values do not fill shape ", to_string(shape), " (", numel_of(shape), " elements)");
  Tensor t = empty(shape, dtype_of<T>::value);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

Tensor Tensor::randn(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels(Device::CPU).random(t, seed, offset, true);
  return t;
}
Tensor Tensor::rand(const Shape& shape, uint64_t seed, uint64_t offset, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels(Device::CPU).random(t, seed, offset, false);
  return t;
}

// ---------------------------------------------------------------- metadata

int64_t Tensor::size(int64_t d) const { return shape()[size_t(wrap_axis(d, dim(), "size"))]; }
int64_t Tensor::numel() const { return numel_of(shape()); }

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (int64_t i = dim(); i-- > 0;) {
    if (shape()[size_t(i)] == 1) continue;
    if (strides()[size_t(i)] != expect) return false;
    expect *= shape()[size_t(i)];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data) + offset() * int64_t(dtype_size(dtype()));
}

template <class T> T* Tensor::data() const {
  MB_CHECK(dtype() == dtype_of<T>::value, "data<", dtype_name(dtype_of<T>::value),
           ">(): tensor has dtype ", dtype_name(dtype()));
  MB_CHECK(device() == Device::CPU, "data(): tensor is on ", device_name(device()),
           "; copy it to the CPU first");
  return static_cast<T*>(raw_data());
}

namespace {
// A contiguous CPU copy (same dtype, no autograd) of a tensor on another device: what reading
// elements of a GPU tensor costs.
Tensor host_copy(const Tensor& t) {
  Tensor src = t;
  if (!t.is_contiguous()) {
    src = Tensor::empty(t.shape(), t.dtype(), t.device());
    kernels(t.device()).copy(t, src);
  }
  Tensor dst = Tensor::empty(t.shape(), t.dtype());
  copy_across_devices(src, dst);
  return dst;
}
}  // namespace

double Tensor::at(const Shape& index) const {
  MB_CHECK(int64_t(index.size()) == dim(), "at: index ", to_string(index),
           " has the wrong rank for shape ", to_string(shape()));
  if (device() != Device::CPU) return host_copy(*this).at(index);
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    MB_CHECK(index[i] >= 0 && index[i] < shape()[i], "at: index ", to_string(index),
             " is out of bounds for shape ", to_string(shape()));
    off += index[i] * strides()[i];
  }
  return visit_dtype(dtype(), [&](auto v) {
    using T = decltype(v);
    return cast_to<double>(static_cast<const T*>(raw_data())[off]);
  });
}

double Tensor::item() const {
  MB_CHECK(numel() == 1, "item: tensor of shape ", to_string(shape()),
           " has ", numel(), " elements, not 1");
  return at(Shape(size_t(dim()), 0));
}

template <class T> std::vector<T> Tensor::to_vector() const {
  if (device() != Device::CPU) return host_copy(*this).to_vector<T>();
  Tensor c = empty(shape(), dtype_of<T>::value);
  kernels(Device::CPU).copy(*this, c);
  return std::vector<T>(c.data<T>(), c.data<T>() + c.numel());
}

Tensor& Tensor::set_requires_grad(bool on) {
  MB_CHECK(!on || is_floating(dtype()), "set_requires_grad: only floating tensors can require ",
           "gradients, this one has dtype ", dtype_name(dtype()));
  MB_CHECK(is_leaf(), "set_requires_grad: only leaf tensors (not results of ops) can be marked");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  return make_view(*this, shape(), strides(), offset());
}

#define MB_INSTANTIATE(T)                                                               \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, const Shape&);          \
  template T* Tensor::data<T>() const;                                                  \
  template std::vector<T> Tensor::to_vector<T>() const;
MB_INSTANTIATE(float)
MB_INSTANTIATE(double)
MB_INSTANTIATE(int32_t)
MB_INSTANTIATE(int64_t)
MB_INSTANTIATE(uint8_t)
MB_INSTANTIATE(bf16)
#undef MB_INSTANTIATE

// ---------------------------------------------------------------- printing

namespace {
int g_precision = 4;
int64_t g_edge = 3;

void print_rec(std::ostream& os, const Tensor& t, Shape& idx, size_t d, int indent) {
  const int64_t n = t.shape()[d];
  const bool last = d + 1 == t.shape().size();
  const bool cut = n > 2 * g_edge + 1;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == g_edge) {
      os << (last ? "..., " : "...,\n" + std::string(size_t(indent + 1), ' '));
      i = n - g_edge - 1;
      continue;
    }
    idx[d] = i;
    if (last) {
      const double v = t.at(idx);
      if (is_floating(t.dtype())) os << std::setprecision(g_precision) << v;
      else os << int64_t(v);
    } else {
      print_rec(os, t, idx, d + 1, indent + 1);
    }
    if (i + 1 < n) os << (last ? ", " : ",\n" + std::string(size_t(indent + 1), ' '));
  }
  os << ']';
}
}  // namespace

void set_printoptions(int precision, int64_t edge_items) {
  g_precision = precision;
  g_edge = edge_items;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  os << "tensor(";
  if (t.device() != Device::CPU) {
    os << "<on " << device_name(t.device()) << ">";
  } else if (t.dim() == 0) {
    os << std::setprecision(g_precision) << t.item();
  } else {
    Shape idx(size_t(t.dim()), 0);
    print_rec(os, t, idx, 0, 7);
  }
  os << ", shape=" << to_string(t.shape()) << ", dtype=" << dtype_name(t.dtype());
  if (t.requires_grad()) os << ", requires_grad";
  return os << ')';
}

}  // namespace mb
