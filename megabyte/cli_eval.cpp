// megabyte eval --ckpt FILE --data PATH [--window N] [--batch B]
#include <unistd.h>

#include <cstdio>

#include "megabyte/checkpoint.h"
#include "megabyte/cli.h"
#include "megabyte/data.h"
#include "megabyte/trainer.h"
#include "tensor/parallel.h"

namespace mb::cli {

int eval(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Bits per byte of a checkpoint over a whole file: non-overlapping windows, every "
                                 "byte predicted once. The last line is `bpb <value>`.");
  opts.add_options()("ckpt", "checkpoint file, or a run folder (its newest checkpoint)", cxxopts::value<std::string>())(
      "data", "file or folder to score", cxxopts::value<std::string>())(
      "format", "data format: auto, raw, idx, ppm", cxxopts::value<std::string>()->default_value("auto"))(
      "window", "bytes per window (a multiple of P, at most T; 0: T)", cxxopts::value<int64_t>()->default_value("0"))(
      "batch", "windows per forward pass", cxxopts::value<int64_t>()->default_value("8"))(
      "threads", "CPU threads (0: all)", cxxopts::value<int>()->default_value("0"));
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("ckpt") && r.count("data"), "--ckpt and --data are required");
  MB_CHECK(r["batch"].as<int64_t>() >= 1, "--batch must be >= 1");
  MB_CHECK(r["threads"].as<int>() >= 0, "--threads must be >= 0");
  if (r["threads"].as<int>() > 0) set_num_threads(r["threads"].as<int>());
  const std::string ckpt = resolve_checkpoint(r["ckpt"].as<std::string>());
  const auto model = load_model(ckpt);
  model->train(false);
  const Corpus corpus = Corpus::load(r["data"].as<std::string>(), data_format_from_name(r["format"].as<std::string>()));
  const int64_t window = r["window"].as<int64_t>() ? r["window"].as<int64_t>() : model->config().seq;
  std::printf("%s: %s\n%s\n", ckpt.c_str(), model->config().summary().c_str(), corpus.describe.c_str());
  const bool tty = isatty(fileno(stderr));
  const double bpb = evaluate_bpb(*model, corpus.bytes, 0, int64_t(corpus.bytes.size()), window, r["batch"].as<int64_t>(),
                                  [&](int64_t done, int64_t total) {
                                    if (tty) std::fprintf(stderr, "\r%5.1f%% of %lld bytes", 100.0 * double(done) / double(total),
                                                          static_cast<long long>(total));
                                  });
  if (tty) std::fprintf(stderr, "\n");
  std::printf("bpb %.6f\n", bpb);
  return 0;
}

}  // namespace mb::cli
