// CUDA tests (ctest label `gpu`). They exit with code 77, which ctest reports as skipped,
// when the CUDA backend is not built or no device is present. The op-by-op comparison with the
// CPU oracle arrives with the CUDA backend; this file is where it goes.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#ifdef MB_HAVE_CUDA
#include "cuda/runtime.h"
#endif

int main(int argc, char** argv) {
#ifdef MB_HAVE_CUDA
  if (mb::cuda::device_count() == 0) {
    std::puts("gpu tests skipped: no CUDA device");
    return 77;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
#else
  (void)argc;
  (void)argv;
  std::puts("gpu tests skipped: built without the CUDA backend (MB_CUDA=OFF)");
  return 77;
#endif
}

#ifdef MB_HAVE_CUDA
TEST_CASE("a kernel runs on the device and its result comes back") {
  const std::vector<float> v = mb::cuda::iota_on_device(1000);
  REQUIRE(v.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(v[size_t(i)] == float(i));
}
#endif
