// megabyte bench --preset NAME [--baseline] [--steps N]: the speed of a training step
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/zoo.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "tensor/backend.h"
#include "tensor/parallel.h"

namespace mb::cli {

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int bench(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Time training steps (forward + backward + clipping + AdamW) on random bytes, as "
                                 "torch_megabyte.py bench does: median ms/step, the split, bytes/s, GFLOP/s, peak memory.");
  add_config_flags(opts, "tiny");
  opts.add_options("bench")("baseline", "the byte transformer with the preset's global width, layers and heads")(
      "batch", "sequences per step (default: the preset's)", cxxopts::value<int64_t>())(
      "steps", "timed steps", cxxopts::value<int64_t>()->default_value("10"))(
      "warmup", "untimed steps first", cxxopts::value<int64_t>()->default_value("2"))(
      "seed", "seed of the weights and the bytes", cxxopts::value<uint64_t>()->default_value("0"));
  add_flags(opts, {Flag::threads, Flag::recompute, Flag::device, Flag::precision});
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  const int64_t steps = r["steps"].as<int64_t>(), warmup = r["warmup"].as<int64_t>();
  MB_CHECK(steps >= 1 && warmup >= 0, "--steps must be >= 1 and --warmup >= 0");
  apply_threads_flag(r);
  Config c = config_from_flags(r);
  if (r.count("baseline")) {
    c.model = "baseline";
    c.head = Head::untied;
  }
  const int64_t B = r.count("batch") ? r["batch"].as<int64_t>() : find_preset(r["preset"].as<std::string>()).batch;
  MB_CHECK(B >= 1, "--batch must be >= 1");
  const Device device = enum_flag<Device>(r, "device");
  const nn::Precision precision = enum_flag<nn::Precision>(r, "precision");
  MB_CHECK(precision == nn::Precision::fp32 || device == Device::CUDA, "--precision bf16 needs --device cuda (the CPU computes in f32)");
  auto model = make_model(c);
  const uint64_t seed = r["seed"].as<uint64_t>();
  model->init_parameters(seed);
  model->set_recompute(switch_on(r, "recompute"));
  model->to(device);
  nn::set_compute_dtype(*model, nn::compute_dtype(precision));
  nn::AdamW adamw(model->named_parameters(), {0.9, 0.95, 1e-8, 0.1});
  const Tensor x = to(to(mul_scalar(Tensor::rand({B, c.seq}, seed, 0, DType::F64), 256.0), DType::U8), device);
  const auto sync = kernels(device).synchronize;
  std::string where = cat(num_threads(), " threads");
  if (device == Device::CUDA) where = cat("cuda ", name_of(precision), " on ", kernels(device).device_description());
  std::printf("%s | %lld params | batch %lld | %s\n", c.summary().c_str(), static_cast<long long>(model->num_parameters()),
              static_cast<long long>(B), where.c_str());
  std::vector<double> total, fwd, bwd, opt;
  double loss = 0;
  for (int64_t i = 0; i < warmup + steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    model->zero_grad();
    const Tensor l = model->loss(x);
    loss = l.item();
    const double tf = seconds_since(t0);
    backward(l);
    sync();
    const double tb = seconds_since(t0);
    adamw.step(1e-3, nn::clip_coefficient(nn::grad_norm(model->parameters()), 1.0));
    sync();
    const double tt = seconds_since(t0);
    if (i < warmup) continue;
    total.push_back(tt);
    fwd.push_back(tf);
    bwd.push_back(tb - tf);
    opt.push_back(tt - tb);
  }
  const double med = median(total), flop = 3 * model->forward_flops(B);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("bench B=%lld T=%lld: median %.1f ms/step (fwd %.1f, bwd %.1f, clip+adamw %.1f); min %.1f max %.1f over %lld steps\n",
              static_cast<long long>(B), static_cast<long long>(c.seq), med * 1e3, median(fwd) * 1e3, median(bwd) * 1e3,
              median(opt) * 1e3, *std::min_element(total.begin(), total.end()) * 1e3,
              *std::max_element(total.begin(), total.end()) * 1e3, static_cast<long long>(steps));
  std::string memory = cat("peak RSS ", int64_t(double(ru.ru_maxrss) / 1024), " MiB");
  if (device == Device::CUDA) memory = cat("peak GPU memory ", int64_t(double(kernels(device).peak_memory()) / (1 << 20)), " MiB");
  std::printf("  %.0f bytes/s | ~%.2f GFLOP/step -> %.1f GFLOP/s | %s | last loss %.4f\n", double(B * c.seq) / med,
              flop / 1e9, flop / med / 1e9, memory.c_str(), loss);
  return 0;
}

}  // namespace mb::cli
