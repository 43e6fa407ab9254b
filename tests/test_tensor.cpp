// Tensor basics: creation, views sharing storage, contiguity, element access, dtypes, RNG.
#include <sstream>

#include "helpers.h"
#include "tensor/cpu/kernels.h"
#include "tensor/parallel.h"

using namespace mb;
using namespace mb::test;

TEST_CASE("creation: zeros, ones, full, arange, from_vector") {
  check_values(Tensor::zeros({2, 3}), {0, 0, 0, 0, 0, 0});
  check_values(Tensor::ones({2}, DType::F64), {1, 1});
  check_values(Tensor::full({3}, 2.5, DType::F32), {2.5, 2.5, 2.5});
  const Tensor a = Tensor::arange(3, 7);
  CHECK(a.dtype() == DType::I64);
  check_values(a, {3, 4, 5, 6});
  const Tensor v = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(v.shape() == Shape{2, 3});
  CHECK(v.strides() == Shape{3, 1});
  CHECK(v.at({1, 2}) == 6);
  CHECK(Tensor::scalar(4.0).item() == 4.0);
  CHECK(Tensor::scalar(4.0).dim() == 0);
}

TEST_CASE("views share storage and do not copy") {
  const Tensor x = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  const Tensor t = transpose(x, 0, 1);
  CHECK(t.storage() == x.storage());
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.strides() == Shape{1, 3});
  CHECK(!t.is_contiguous());
  CHECK(t.at({2, 1}) == 5);
  const Tensor r = reshape(x, {3, 2});
  CHECK(r.storage() == x.storage());
  const Tensor s = slice(x, 1, 1, 3);
  CHECK(s.storage() == x.storage());
  CHECK(s.offset() == 1);
  check_values(s, {1, 2, 4, 5});
  const Tensor e = expand(f64({7, 8}, {2, 1}), {2, 4});
  CHECK(e.strides()[1] == 0);
  check_values(e, {7, 7, 7, 7, 8, 8, 8, 8});
  // a write through a view is seen by the base
  fill_(slice(x, 0, 1, 2), 9.0);
  check_values(x, {0, 1, 2, 9, 9, 9});
}

TEST_CASE("contiguous copies only when needed, and so does reshape") {
  const Tensor x = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  CHECK(contiguous(x).same(x));
  const Tensor t = transpose(x, 0, 1);
  const Tensor c = contiguous(t);
  CHECK(c.is_contiguous());
  CHECK(c.storage() != x.storage());
  check_values(c, {0, 3, 1, 4, 2, 5});
  // merging the two swapped dims of a transpose cannot be a view: a copy
  const Tensor r = reshape(t, {6});
  CHECK(r.storage() != x.storage());
  check_values(r, {0, 3, 1, 4, 2, 5});
  // splitting a dim of a transposed tensor, or adding and removing size-1 dims, can
  const Tensor split_dim = reshape(transpose(f64({0, 1, 2, 3, 4, 5, 6, 7}, {2, 4}), 0, 1), {2, 2, 2});
  CHECK(split_dim.strides() == Shape{2, 1, 4});
  check_values(split_dim, {0, 4, 1, 5, 2, 6, 3, 7});
  CHECK(reshape(x, {-1}).shape() == Shape{6});
  CHECK(reshape(x, {3, -1}).shape() == Shape{3, 2});
}

TEST_CASE("permute, unsqueeze, squeeze, select, slice with step, narrow") {
  const Tensor x = reshape(to(Tensor::arange(0, 24), DType::F64), {2, 3, 4});
  const Tensor p = permute(x, {2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.at({3, 1, 2}) == x.at({1, 2, 3}));
  CHECK(unsqueeze(x, 1).shape() == Shape{2, 1, 3, 4});
  CHECK(unsqueeze(x, -1).shape() == Shape{2, 3, 4, 1});
  CHECK(squeeze(unsqueeze(x, 0), 0).shape() == x.shape());
  check_values(select(x, 1, 2), {8, 9, 10, 11, 20, 21, 22, 23});
  check_values(select(select(x, 0, -1), 0, 0), {12, 13, 14, 15});
  check_values(slice(select(select(x, 0, 0), 0, 0), 0, 0, 4, 2), {0, 2});
  check_values(narrow(select(select(x, 0, 1), 0, 1), 0, 1, 2), {17, 18});
  check_values(slice(Tensor::arange(0, 10), 0, -3, 10), {7, 8, 9});
}

TEST_CASE("select, squeeze and unsqueeze are views, also of non-contiguous tensors") {
  const Tensor x = reshape(to(Tensor::arange(0, 24), DType::F64), {2, 3, 4});
  const Tensor p = permute(x, {2, 0, 1});  // (4, 2, 3), not contiguous
  for (const Tensor& v : {select(p, 1, 1), unsqueeze(p, 1), squeeze(unsqueeze(p, 3), 3), select(p, 0, 2)})
    CHECK(v.storage() == x.storage());
  check_values(select(p, 1, 1), {12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23});
  CHECK(max_abs_diff(reshape(unsqueeze(p, 1), {4, 2, 3}), p) == 0);
  // a write through a selected view reaches the base
  fill_(select(p, 0, 3), -1.0);
  CHECK(x.at({1, 2, 3}) == -1);
  CHECK(x.at({1, 2, 2}) == 22);
}

TEST_CASE("dtype conversion: to(), bf16 rounding") {
  const Tensor x = f64({1.5, -2.25, 3.0}, {3});
  check_values(to(x, DType::F32), {1.5, -2.25, 3.0});
  check_values(to(x, DType::I64), {1, -2, 3});
  // bf16 keeps 8 significant bits: 1 + 2^-8 rounds to even (1.0), 1 + 3·2^-8 to 1 + 2^-6
  const Tensor b = to(f32({1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 65504.0f}, {3}), DType::BF16);
  CHECK(b.dtype() == DType::BF16);
  check_values(to(b, DType::F32), {1.0, 1.0 + 1.0 / 64, 65536.0});
  CHECK(to(x, DType::F64).same(x));
}

TEST_CASE("RNG: counter-based, seeded, independent of thread count and of the split") {
  const Tensor a = Tensor::randn({1000}, 42, 0, DType::F64);
  const Tensor b = Tensor::randn({1000}, 42, 0, DType::F64);
  CHECK(max_abs_diff(a, b) == 0);
  // element i depends on (seed, offset + i) only: a later window of the stream matches
  const Tensor tail = Tensor::randn({500}, 42, 500, DType::F64);
  CHECK(max_abs_diff(slice(a, 0, 500, 1000), tail) == 0);
  CHECK(max_abs_diff(a, Tensor::randn({1000}, 43, 0, DType::F64)) > 0.1);
  // f32 draws are the f64 draws rounded
  CHECK(max_abs_diff(to(a, DType::F32), Tensor::randn({1000}, 42, 0, DType::F32)) == 0);
  const int threads = num_threads();
  set_num_threads(1);
  const Tensor one = Tensor::rand({100000}, 7);
  set_num_threads(2);
  const Tensor two = Tensor::rand({100000}, 7);
  set_num_threads(threads);
  CHECK(max_abs_diff(one, two) == 0);
}

TEST_CASE("RNG: moments of randn and rand") {
  const Tensor n = Tensor::randn({200000}, 1, 0, DType::F64);
  CHECK(std::abs(mean(n).item()) < 0.01);
  CHECK(std::abs(var(n).item() - 1.0) < 0.01);
  const Tensor u = Tensor::rand({200000}, 2, 0, DType::F64);
  CHECK(std::abs(mean(u).item() - 0.5) < 0.005);
  CHECK(std::abs(var(u).item() - 1.0 / 12) < 0.002);
  CHECK(max(u).item() < 1.0);
  CHECK(-max(neg(u)).item() > 0.0);
}

TEST_CASE("printing shows values, shape and dtype") {
  std::ostringstream os;
  os << f32({1, 2, 3, 4}, {2, 2});
  CHECK(os.str() == "tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=f32)");
  std::ostringstream big;
  big << Tensor::arange(0, 100);
  CHECK(big.str() == "tensor([0, 1, 2, ..., 97, 98, 99], shape=[100], dtype=i64)");
  set_printoptions(2, 1);  // two significant digits, one element at each edge
  std::ostringstream set;
  set << f64({3.14159, 2, 2.71828}, {3}) << " " << Tensor::arange(0, 100);
  set_printoptions();
  CHECK(set.str() == "tensor([3.1, 2, 2.7], shape=[3], dtype=f64) tensor([0, ..., 99], shape=[100], dtype=i64)");
}

TEST_CASE("element access is bounds-checked") {
  const Tensor x = Tensor::zeros({2, 3});
  CHECK(error_of([&] { (void)x.at({2, 0}); }).find("out of bounds") != std::string::npos);
  CHECK(error_of([&] { (void)x.item(); }).find("6 elements") != std::string::npos);
  CHECK(error_of([&] { (void)x.data<double>(); }).find("f32") != std::string::npos);
}

TEST_CASE("the CPU allocator reuses blocks of 64 KiB and more instead of asking the OS again") {
  for (int64_t n : {1 << 20, 100 << 8}) {  // 4 MiB, and 100 KiB (glibc maps or trims such blocks afresh)
    INFO(n, " floats");
    cpu::empty_cache();
    CHECK(cpu::cached_bytes() == 0);
    const void* first = nullptr;
    {
      const Tensor big = Tensor::zeros({n});
      first = big.raw_data();
    }
    CHECK(cpu::cached_bytes() >= size_t(n) * 4);
    const Tensor again = Tensor::ones({n - 5});  // (the same size class)
    CHECK(again.raw_data() == first);  // the same block, handed out again
    check_values(slice(again, 0, 0, 3), {1, 1, 1});
    cpu::empty_cache();
    CHECK(cpu::cached_bytes() == 0);
  }
  cpu::empty_cache();
  { const Tensor small = Tensor::zeros({1000}); }  // 4 KB: malloc's own bins, not kept
  CHECK(cpu::cached_bytes() == 0);
}
