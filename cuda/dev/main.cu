// kernel_lab: runs numbered versions of CUDA kernels, checks each against the CPU oracle, and
// times it. See docs/kernel-lab.md.
//
//   kernel_lab --kernel softmax --version 2 --rows 4096 --cols 1024 --reps 20
//   kernel_lab --kernel all            every version of every kernel
//   kernel_lab --check-oracle          the CPU side only: checks the oracles themselves
//   kernel_lab --list                  the kernels, their versions and what each teaches
#include <cxxopts.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "lab.cuh"
#include "oracle.h"

namespace {

const std::vector<const lab::Family*>& families() {
  static const std::vector<const lab::Family*> all = {&lab::softmax_family(), &lab::layernorm_family(),
                                                      &lab::attention_family(), &lab::gemm_family()};
  return all;
}

void list_versions() {
  for (const lab::Family* f : families()) {
    std::printf("%s\n", f->name);
    for (size_t v = 0; v < f->versions.size(); ++v)
      std::printf("  v%zu  %-30s %s\n", v + 1, f->versions[v].label, f->versions[v].teaches);
  }
}

// The --quick shapes: small, and deliberately not multiples of the tile sizes, so that the
// edge handling of every kernel is exercised.
void make_quick(lab::Config& cfg) {
  cfg.rows = 256, cfg.cols = 1000;
  cfg.batch = 2, cfg.heads = 2, cfg.seq = 100, cfg.head_dim = 64;
  cfg.m = 200, cfg.n = 136, cfg.k = 75;
  cfg.reps = 3, cfg.warmup = 1;
}

}  // namespace

int main(int argc, char** argv) {
  lab::Config cfg;
  cxxopts::Options opts("kernel_lab",
                        "Numbered versions of CUDA kernels (naive -> tiled -> fused), each checked against a CPU "
                        "oracle and timed: median over --reps runs, in GB/s or TFLOP/s.");
  // clang-format off
  opts.add_options()
    ("kernel", "softmax, layernorm, attention, gemm or all", cxxopts::value<std::string>()->default_value("all"))
    ("version", "run only this version (0: every version)", cxxopts::value<int>()->default_value("0"))
    ("rows", "softmax/layernorm rows (default " + std::to_string(cfg.rows) + ")", cxxopts::value<int>())
    ("cols", "softmax/layernorm columns (default " + std::to_string(cfg.cols) + ")", cxxopts::value<int>())
    ("B,batch", "attention batch (default " + std::to_string(cfg.batch) + ")", cxxopts::value<int>())
    ("H,heads", "attention heads (default " + std::to_string(cfg.heads) + ")", cxxopts::value<int>())
    ("T,seq", "attention sequence length (default " + std::to_string(cfg.seq) + ")", cxxopts::value<int>())
    ("D,head-dim", "attention head size (default " + std::to_string(cfg.head_dim) + ")", cxxopts::value<int>())
    ("M,gemm-m", "gemm rows of A and C (default " + std::to_string(cfg.m) + ")", cxxopts::value<int>())
    ("N,gemm-n", "gemm columns of B and C (default " + std::to_string(cfg.n) + ")", cxxopts::value<int>())
    ("K,gemm-k", "gemm inner size (default " + std::to_string(cfg.k) + ")", cxxopts::value<int>())
    ("reps", "timed repetitions; the median is reported", cxxopts::value<int>()->default_value(std::to_string(cfg.reps)))
    ("warmup", "untimed runs first", cxxopts::value<int>()->default_value(std::to_string(cfg.warmup)))
    ("seed", "seed of the random inputs", cxxopts::value<uint64_t>()->default_value(std::to_string(cfg.seed)))
    ("no-flush", "do not evict L2 before each timed run")
    ("quick", "small odd shapes and 3 reps (the ctest `gpu` test); exits 77 without a device")
    ("check-oracle", "check the CPU oracles only (no GPU needed)")
    ("list", "list the kernels and what each version teaches")
    ("h,help", "this help");
  // clang-format on

  cxxopts::ParseResult args;
  try {
    args = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "kernel_lab: %s\n\n%s\n", e.what(), opts.help().c_str());
    return 2;
  }
  if (args.count("help")) {
    std::printf("%s\n", opts.help().c_str());
    return 0;
  }
  if (args.count("list")) {
    list_versions();
    return 0;
  }

  const bool quick = args.count("quick") > 0;
  if (quick) make_quick(cfg);
  auto set = [&](const char* name, int& field) {
    if (args.count(name)) field = args[name].as<int>();
  };
  set("rows", cfg.rows);
  set("cols", cfg.cols);
  set("batch", cfg.batch);
  set("heads", cfg.heads);
  set("seq", cfg.seq);
  set("head-dim", cfg.head_dim);
  set("gemm-m", cfg.m);
  set("gemm-n", cfg.n);
  set("gemm-k", cfg.k);
  if (!quick || args.count("reps")) cfg.reps = args["reps"].as<int>();
  if (!quick || args.count("warmup")) cfg.warmup = args["warmup"].as<int>();
  cfg.seed = args["seed"].as<uint64_t>();
  cfg.flush_l2 = args.count("no-flush") == 0;
  for (int s : {cfg.rows, cfg.cols, cfg.batch, cfg.heads, cfg.seq, cfg.head_dim, cfg.m, cfg.n, cfg.k, cfg.reps})
    if (s < 1) {
      std::fprintf(stderr, "kernel_lab: sizes and --reps must be at least 1\n");
      return 2;
    }
  if (cfg.warmup < 0) {
    std::fprintf(stderr, "kernel_lab: --warmup must be at least 0\n");
    return 2;
  }

  // Which kernels and versions.
  const std::string kernel = args["kernel"].as<std::string>();
  const int version = args["version"].as<int>();
  std::vector<std::pair<const lab::Family*, std::vector<int>>> plan;
  for (const lab::Family* f : families()) {
    if (kernel != "all" && kernel != f->name) continue;
    const int n = int(f->versions.size());
    std::vector<int> vs;
    for (int v = 1; v <= n; ++v)
      if (version == 0 || version == v) vs.push_back(v);
    if (vs.empty() && kernel != "all") {
      std::fprintf(stderr, "kernel_lab: %s has versions 1 to %d\n", f->name, n);
      return 2;
    }
    if (!vs.empty()) plan.emplace_back(f, vs);
  }
  if (plan.empty()) {
    std::fprintf(stderr, "kernel_lab: no kernel '%s' with version %d (see --list)\n", kernel.c_str(), version);
    return 2;
  }

  // The CPU side first: a kernel can only be judged by a correct oracle.
  const bool oracle_ok = lab::oracle::self_check();
  if (args.count("check-oracle")) return oracle_ok ? 0 : 1;
  if (!oracle_ok) {
    std::fprintf(stderr, "kernel_lab: the CPU oracle failed its own checks; not running kernels\n");
    return 1;
  }

  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("\nno CUDA device (%s): ran the CPU oracle checks only\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "the driver reports 0 devices");
    return quick ? 77 : 0;  // 77: ctest counts the `gpu` test as skipped
  }
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("\ndevice 0: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, double(prop.totalGlobalMem) / (1 << 30), prop.l2CacheSize >> 20);
  std::printf("median of %d runs after %d warm-up runs, L2 %s before each; error = max |gpu - cpu| / (1 + |cpu|)\n\n",
              cfg.reps, cfg.warmup, cfg.flush_l2 ? "evicted" : "not evicted");

  lab::print_header();
  int failed = 0;
  for (const auto& [family, versions] : plan) {
    for (const lab::Result& r : family->run(versions, cfg)) {
      lab::print_row(r);
      if (r.status == lab::Status::FAIL) ++failed;
    }
  }
  if (failed) std::printf("\n%d version(s) FAILED the oracle check\n", failed);
  return failed ? 1 : 0;
}
