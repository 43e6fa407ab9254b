// CUDA tests (ctest label `gpu`). With this file the gpu test binary also compiles
// test_gradcheck.cpp with MB_TEST_CUDA: every op of the op list gradchecked on the device in
// f64 and compared with the CPU oracle in f32. Here: memory and copies, random numbers,
// kernels at sizes beyond the gradcheck shapes (tiled paths), determinism, the reference
// fixtures on the GPU, and training steps on the GPU against the CPU.
//
// Without a device (or without the CUDA backend) every test exits with code 77, which ctest
// reports as skipped; listing the tests works everywhere, so they are always discovered.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#ifdef MB_HAVE_CUDA
#include <filesystem>

#include "cuda/runtime.h"
#include "helpers.h"
#include "megabyte/generate.h"
#include "megabyte/model.h"
#include "megabyte/verify.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "tensor/backend.h"
#endif

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing = listing || std::strncmp(argv[i], "--list", 6) == 0 || std::strncmp(argv[i], "-l", 2) == 0;
#ifdef MB_HAVE_CUDA
  if (!listing && mb::cuda::device_count() == 0) {
    std::puts("gpu test skipped: no CUDA device");
    return 77;
  }
#else
  if (!listing) {
    std::puts("gpu test skipped: built without the CUDA backend (MB_CUDA=OFF)");
    return 77;
  }
#endif
  doctest::Context ctx(argc, argv);
  return ctx.run();
}

#ifdef MB_HAVE_CUDA
using namespace mb;
using namespace mb::test;

namespace {

Tensor gpu(const Tensor& t) { return to(t, Device::CUDA); }
Tensor cpu(const Tensor& t) { return to(t, Device::CPU); }

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = to(cpu(a), DType::F64).to_vector<double>(), y = to(cpu(b), DType::F64).to_vector<double>();
  return x == y;
}

}  // namespace

TEST_CASE("every dtype survives the trip to the device and back, and strided copies convert") {
  const Tensor x = Tensor::randn({3, 5, 7}, 1, 0, DType::F64);
  for (DType d : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8, DType::BF16}) {
    INFO(std::string(dtype_name(d)));
    const Tensor h = to(mul_scalar(x, 10.0), d);
    CHECK(bitwise_equal(cpu(gpu(h)), h));
  }
  // a transposed, stepped view converted on the device equals the same on the CPU
  const Tensor v = slice(transpose(x, 0, 2), 1, 0, 5, 2);
  CHECK(bitwise_equal(to(gpu(v), DType::F32), to(v, DType::F32)));
  CHECK(bitwise_equal(to(gpu(v), DType::BF16), to(v, DType::BF16)));
}

TEST_CASE("the caching allocator reuses blocks and counts bytes") {
  cuda::synchronize();
  const cuda::MemoryStats before = cuda::memory_stats();
  {
    const Tensor a = Tensor::empty({1 << 20}, DType::F32, Device::CUDA);  // 4 MiB
    CHECK(cuda::memory_stats().in_use >= before.in_use + (size_t(4) << 20));
  }
  const cuda::MemoryStats after_free = cuda::memory_stats();
  CHECK(after_free.in_use == before.in_use);
  CHECK(after_free.peak >= before.in_use + (size_t(4) << 20));
  const size_t reserved = after_free.reserved;
  { const Tensor b = Tensor::empty({1 << 20}, DType::F32, Device::CUDA); }  // same size: from the cache
  CHECK(cuda::memory_stats().reserved == reserved);
  cuda::empty_cache();
  CHECK(cuda::memory_stats().reserved < reserved);
}

// Uniforms are integer arithmetic, bitwise equal; normals go through log and cos, whose last
// bit may differ between the GPU's math library and the host's.
TEST_CASE("random numbers are the CPU's, element for element") {
  const Tensor n = Tensor::empty({1000}, DType::F64, Device::CUDA);
  kernels(Device::CUDA).random(n, 42, 7, true);
  CHECK(rel_error(Tensor::randn({1000}, 42, 7, DType::F64), n) < 1e-14);
  const Tensor u = Tensor::empty({1000}, DType::F32, Device::CUDA);
  kernels(Device::CUDA).random(u, 3, 0, false);
  CHECK(bitwise_equal(u, Tensor::rand({1000}, 3, 0, DType::F32)));
}

TEST_CASE("errors name the device problem") {
  const Tensor a = Tensor::zeros({2}), b = gpu(Tensor::zeros({2}));
  CHECK(error_of([&] { (void)add(a, b); }).find("cuda") != std::string::npos);
}

// Indices on the device are checked by the kernels that read them (cuda/indices.cuh): the op
// returns at once, reads nothing out of bounds, and the next synchronising call raises the
// error with the op, the index and its position; after it, the device works as before.
TEST_CASE("indices out of range on the device: raised at the next sync, nothing read") {
  const Tensor table = gpu(Tensor::ones({4, 3})), bad = gpu(Tensor::from_vector<int64_t>({1, 4, 2}, {3}));
  const Tensor rows = embedding(table, bad);  // no copy of `bad` to the host, no error yet
  const std::string e = error_of([&] { (void)to(rows, Device::CPU); });
  CHECK(e.find("embedding: index 4 at flat position 1 is out of range [0, 4)") != std::string::npos);
  CHECK(error_of([&] { cuda::synchronize(); }).empty());  // raised once
  const Tensor logits = gpu(Tensor::zeros({2, 5})), targets = gpu(Tensor::from_vector<int32_t>({0, -1}, {2}));
  const Tensor losses = cross_entropy(logits, targets, Reduction::none);
  CHECK(error_of([&] { cuda::synchronize(); }).find("cross_entropy: target -1 at flat position 1 is out of range [0, 5)") !=
        std::string::npos);
  // the rows of good indices are right, the bad one's row is zero, and its gradient goes nowhere
  const std::vector<float> one = {1, 1, 1}, zero = {0, 0, 0};
  const auto row_of = [](const Tensor& t, int64_t r) { return to(select(t, 0, r), Device::CPU).to_vector<float>(); };
  CHECK(row_of(rows, 0) == one);
  CHECK(row_of(rows, 1) == zero);
  CHECK(row_of(rows, 2) == one);
  const Tensor gw = gpu(Tensor::zeros({4, 3}));
  kernels(Device::CUDA).embedding_backward(bad, gpu(Tensor::ones({3, 3})), gw);
  CHECK(error_of([&] { cuda::synchronize(); }).empty());  // (the forward reports; the backward stays in bounds)
  for (int64_t r = 0; r < 4; ++r) CHECK(row_of(gw, r) == (r == 1 || r == 2 ? one : zero));
}

// Shapes past the single-tile paths: long rows, many rows, long sequences, big GEMMs.
TEST_CASE("kernels at model sizes agree with the CPU in f32") {
  const Tensor x = Tensor::randn({4096, 1024}, 1), w = Tensor::randn({1024}, 2), b = Tensor::randn({1024}, 3);
  CHECK(rel_error(layer_norm(x, w, b), layer_norm(gpu(x), gpu(w), gpu(b))) < 1e-5);
  CHECK(rel_error(softmax(x), softmax(gpu(x))) < 1e-5);
  CHECK(rel_error(log_softmax(x), log_softmax(gpu(x))) < 1e-5);
  const Tensor m = Tensor::randn({512, 768}, 4), n = Tensor::randn({768, 640}, 5);
  CHECK(rel_error(matmul(m, n), matmul(gpu(m), gpu(n))) < 1e-5);
  CHECK(rel_error(matmul(transpose(n, 0, 1), transpose(m, 0, 1)), matmul(transpose(gpu(n), 0, 1), transpose(gpu(m), 0, 1))) < 1e-5);
  const Tensor t = Tensor::from_vector(std::vector<int64_t>(4096, 7), {4096});
  CHECK(rel_error(cross_entropy(x, t), cross_entropy(gpu(x), gpu(t))) < 1e-5);
  CHECK(rel_error(sum(x, {0}), sum(gpu(x), {0})) < 1e-5);
  CHECK(rel_error(sum(x), sum(gpu(x))) < 1e-5);
  CHECK(bitwise_equal(argmax(x, 1), argmax(gpu(x), 1)));
}

TEST_CASE("attention forward and backward at T = 1024, and against a KV cache") {
  for (int64_t D : {16, 64, 128}) {
    INFO("head width ", D);
    const Tensor q = Tensor::randn({2, 4, 1024, D}, 1), k = Tensor::randn({2, 4, 1024, D}, 2),
                 v = Tensor::randn({2, 4, 1024, D}, 3), gy = Tensor::randn({2, 4, 1024, D}, 4);
    Tensor qc = q.detach(), kc = k.detach(), vc = v.detach();
    Tensor qg = gpu(q).detach(), kg = gpu(k).detach(), vg = gpu(v).detach();
    for (Tensor* t : {&qc, &kc, &vc, &qg, &kg, &vg}) t->set_requires_grad();
    const Tensor yc = attention(qc, kc, vc), yg = attention(qg, kg, vg);
    CHECK(rel_error(yc, yg) < 1e-5);
    backward(sum(mul(yc, gy)));
    backward(sum(mul(yg, gpu(gy))));
    CHECK(rel_error(qc.grad(), qg.grad()) < 1e-4);
    CHECK(rel_error(kc.grad(), kg.grad()) < 1e-4);
    CHECK(rel_error(vc.grad(), vg.grad()) < 1e-4);
    // 3 new queries against 1024 cached keys
    const Tensor q3 = narrow(q, 2, 1021, 3);
    CHECK(rel_error(attention(q3, k, v), attention(gpu(q3), gpu(k), gpu(v))) < 1e-5);
  }
}

TEST_CASE("reductions in backward are deterministic (bitwise the same twice)") {
  const Tensor x = gpu(Tensor::randn({8, 512, 256}, 1)), w = gpu(Tensor::randn({256}, 2));
  const Tensor idx = gpu(Tensor::from_vector(std::vector<int64_t>(4096, 3), {4096}));
  auto grads = [&] {
    Tensor xl = x.detach(), wl = w.detach();
    Tensor table = gpu(Tensor::randn({257, 256}, 3)).detach();
    xl.set_requires_grad();
    wl.set_requires_grad();
    table.set_requires_grad();
    const Tensor q = reshape(xl, {8, 1, 512, 256});
    const Tensor y = add(sum(layer_norm(xl, wl, Tensor())), sum(attention(q, q, q)));
    backward(add(y, sum(embedding(table, idx))));
    return std::vector<Tensor>{xl.grad(), wl.grad(), table.grad()};
  };
  const auto a = grads(), b = grads();
  for (size_t i = 0; i < a.size(); ++i) CHECK(bitwise_equal(a[i], b[i]));
}

TEST_CASE("the reference fixtures pass on the device, f64 and f32") {
  for (const auto& e : std::filesystem::directory_iterator(MB_FIXTURES_DIR)) {
    if (e.path().extension() != ".safetensors") continue;
    for (DType d : {DType::F64, DType::F32}) {
      INFO(e.path().filename().string(), " ", std::string(dtype_name(d)));
      const VerifyReport rep = verify_fixture(e.path().string(), d, Device::CUDA);
      for (const VerifyCheck& c : rep.checks) {
        INFO(c.name, ": error ", c.error, " tolerance ", c.tolerance);
        CHECK(c.ok());
      }
    }
  }
}

// (bf16: the Linears' GEMMs and, with 32 patches, the global model's attention on tensor cores)
TEST_CASE("training steps on the device follow the CPU's, and bf16 stays close") {
  Config c = megabyte_config(128, 4, 64, 32, 4, 2);
  std::vector<int64_t> bytes(4 * 128);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = int64_t((i * 37 + i / 7 * 11) % 256);
  const Tensor data = Tensor::from_vector(bytes, {4, 128});
  auto run = [&](Device d, DType matmul) {
    auto model = make_model(c);
    model->init_parameters(1);
    model->to(d);
    nn::AdamW opt(model->named_parameters());
    nn::set_compute_dtype(*model, matmul);
    std::vector<double> losses;
    for (int s = 0; s < 5; ++s) {
      model->zero_grad();
      const Tensor l = model->loss(to(data, d));
      losses.push_back(l.item());
      backward(l);
      opt.step(1e-3);
    }
    return losses;
  };
  const auto on_cpu = run(Device::CPU, DType::F32), on_gpu = run(Device::CUDA, DType::F32),
             bf16 = run(Device::CUDA, DType::BF16);
  for (size_t s = 0; s < on_cpu.size(); ++s) {
    INFO("step ", s, ": CPU ", on_cpu[s], ", CUDA ", on_gpu[s], ", CUDA bf16 ", bf16[s]);
    CHECK(std::abs(on_cpu[s] - on_gpu[s]) < 1e-4);
    CHECK(std::abs(on_cpu[s] - bf16[s]) < 3e-2);
  }
  CHECK(on_gpu.back() < on_gpu.front());
  CHECK(bf16.back() < bf16.front());
}

TEST_CASE("cached decoding on the device gives the CPU's logits, byte by byte and for a batched prompt") {
  Config c = megabyte_config(32, 4, 32, 16, 2, 2);
  c.init_std = 0.2;
  Megabyte cpu_model(c), gpu_model(c);
  cpu_model.init_parameters(5);
  gpu_model.init_parameters(5);
  gpu_model.to(Device::CUDA);
  auto on_cpu = cached_decoder(cpu_model), on_gpu = cached_decoder(gpu_model);
  for (int64_t t = 0, chunk = 1; t < 32; chunk = chunk % 5 + 1) {  // pushes of 1, 2, 3, 4, 5 bytes
    const Tensor a = on_cpu->next_logits(), b = on_gpu->next_logits();
    INFO("position ", t);
    CHECK(b.device() == Device::CUDA);
    CHECK(max_abs_diff(a, to(b, Device::CPU)) < 1e-4);
    for (int64_t end = std::min<int64_t>(32, t + chunk); t < end; ++t) {
      on_cpu->push(uint8_t(t * 37 % 256));
      on_gpu->push(uint8_t(t * 37 % 256));
    }
  }
}
#endif
