// megabyte eval --ckpt FILE --data PATH [--window N] [--stride S] [--strided] [--batch B] (MB_EVAL_FIELDS)
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/data.h"
#include "megabyte/evaluate.h"
#include "megabyte/trainer.h"

namespace mb::cli {

int eval(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Bits per byte of a checkpoint over a whole file: non-overlapping windows, every "
                                 "byte predicted once. The last line is `bpb <value>`.");
  add_flags(opts, {Flag::ckpt, Flag::data, Flag::format, Flag::scan, Flag::threads, Flag::weights});
  add_table_flags<EvalOptions>(opts);
  opts.add_options()("by-position", "also print bits per byte at each position within the patch (the paper's Fig. 5)")(
      "val-fraction", "score only the held-out tail of this fraction, as `train --val-fraction` splits it (0: all)",
      cxxopts::value<double>()->default_value("0"));
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  const EvalOptions eo = options_from_flags<EvalOptions>(r);
  const auto [ckpt, model, corpus] = open_scoring(r);
  std::printf("%s: %s\n%s\n", ckpt.c_str(), model->config().summary().c_str(), corpus.describe.c_str());
  const bool tty = isatty(fileno(stderr));
  const double tail = r["val-fraction"].as<double>();
  const int64_t begin = tail > 0 ? split_corpus(corpus, tail).train_end : 0;
  if (begin > 0) std::printf("scoring the held-out tail: bytes %lld to %zu\n", static_cast<long long>(begin), corpus.bytes.size());
  const std::vector<double> nats = byte_nats(*model, corpus.bytes, begin, int64_t(corpus.bytes.size()), eo,
                                  [&](int64_t done, int64_t total) {
                                    if (tty) std::fprintf(stderr, "\r%5.1f%% of %lld bytes", 100.0 * double(done) / double(total),
                                                          static_cast<long long>(total));
                                  });
  if (tty) std::fprintf(stderr, "\n");
  const Config& c = model->config();
  if (r.count("by-position") && c.is_megabyte()) {
    // windows start on multiples of P, so byte t is at position t mod P of its patch (pass A)
    std::vector<double> sum(size_t(c.patch), 0.0);
    std::vector<int64_t> count(size_t(c.patch), 0);
    for (size_t t = 0; t < nats.size(); ++t) {
      sum[t % size_t(c.patch)] += nats[t];
      ++count[t % size_t(c.patch)];
    }
    std::printf("bpb by position in the patch:");
    for (int64_t p = 0; p < c.patch; ++p)
      std::printf(" %.3f", count[size_t(p)] ? sum[size_t(p)] / double(count[size_t(p)]) / std::log(2.0) : 0.0);
    std::printf("\n");
  }
  double total = 0;
  for (double v : nats) total += v;
  std::printf("bpb %.6f\n", total / double(nats.size()) / std::log(2.0));
  return 0;
}

}  // namespace mb::cli
