// Generation speed: KV-cached decoding vs recomputing the whole context for every byte (what
// most public MEGABYTE code does, and torch_megabyte.py genbench), greedy, batch 1, random
// weights (speed does not depend on them).
//   build/bench/bench_generate --preset small --seq 8192 --prompt 8000 --bytes 128 --recompute-bytes 8 [--device cuda]
#include <chrono>
#include <cstdio>

#include "megabyte/cli.h"
#include "megabyte/generate.h"
#include "tensor/backend.h"
#include "tensor/parallel.h"

using namespace mb;

namespace {

// bytes/s of decoding n bytes after feeding `prompt` (prefill timed apart: the pushes and the
// first logits, which take the prompt into the caches)
double rate(Decoder& dec, const std::vector<uint8_t>& prompt, int64_t n, double* prefill_s) {
  const auto t0 = std::chrono::steady_clock::now();
  for (uint8_t b : prompt) dec.push(b);
  (void)dec.next_logits();
  const auto t1 = std::chrono::steady_clock::now();
  SampleOptions greedy;
  greedy.temperature = 0;
  generate(dec, "", n, greedy);
  const auto t2 = std::chrono::steady_clock::now();
  if (prefill_s) *prefill_s = std::chrono::duration<double>(t1 - t0).count();
  return double(n) / std::chrono::duration<double>(t2 - t1).count();
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("bench_generate", "Bytes/s of cached vs recomputed greedy generation.");
  cli::add_config_flags(opts, "small");
  opts.add_options("bench")("prompt", "context bytes before generating (random)", cxxopts::value<int64_t>()->default_value("0"))(
      "bytes", "bytes to generate with the caches", cxxopts::value<int64_t>()->default_value("256"))(
      "recompute-bytes", "bytes to generate by recomputation", cxxopts::value<int64_t>()->default_value("16"))(
      "threads", "CPU threads (0: all)", cxxopts::value<int>()->default_value("0"))(
      "device", "cpu or cuda", cxxopts::value<std::string>()->default_value("cpu"));
  try {
    cxxopts::ParseResult r;
    if (!cli::parse(opts, argc, argv, r)) return 0;
    if (r["threads"].as<int>() > 0) set_num_threads(r["threads"].as<int>());
    const Config c = cli::config_from_flags(r);
    const int64_t L = r["prompt"].as<int64_t>(), n = r["bytes"].as<int64_t>(), nr = r["recompute-bytes"].as<int64_t>();
    MB_CHECK(L + std::max(n, nr) <= c.seq, "--prompt + --bytes must fit in T = ", c.seq);
    auto model = make_model(c);
    model->train(false);
    model->to(cli::device_from_flag(r["device"].as<std::string>()));
    std::vector<uint8_t> prompt(static_cast<size_t>(L));
    const Tensor u = Tensor::rand({std::max<int64_t>(L, 1)}, 1, 0, DType::F64);
    for (int64_t i = 0; i < L; ++i) prompt[size_t(i)] = uint8_t(u.at({i}) * 256);
    std::printf("%s | %s | %d threads | prompt %lld bytes\n", c.summary().c_str(),
                kernels(model->device()).device_description().c_str(), num_threads(), static_cast<long long>(L));
    double prefill = 0;
    const double cached = rate(*cached_decoder(*model), prompt, n, &prefill);
    std::printf("cached:     %8.1f bytes/s over %lld bytes (prompt fed in %.2f s)\n", cached, static_cast<long long>(n), prefill);
    const double recomputed = rate(*recompute_decoder(*model), prompt, nr, nullptr);
    std::printf("recomputed: %8.1f bytes/s over %lld bytes\n", recomputed, static_cast<long long>(nr));
    std::printf("speed-up:   %8.1fx\n", cached / recomputed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_generate: error: %s\n", e.what());
    return 1;
  }
}
