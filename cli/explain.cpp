// megabyte explain --ckpt CKPT --data FILE [--offset N] [--bytes M] [--image WxH] [--audio] --out page.html
// megabyte report RUN [RUN_B ...] [--samples N] [--out FILE]
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/data.h"
#include "megabyte/pages/explain.h"

namespace mb::cli {

int explain(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Writes a self-contained HTML page (no network) of how a checkpoint sees a span of "
                                 "bytes: each byte coloured by its bits, with its top predictions; bits by position in "
                                 "the patch, plain and strided; the attention of the global and local models.");
  add_flags(opts, {Flag::ckpt, Flag::data, Flag::format, Flag::threads, Flag::weights});
  add_table_flags<ExplainOptions>(opts);
  opts.add_options()("out", "the page to write", cxxopts::value<std::string>()->default_value("explain.html"));
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  const ExplainOptions o = options_from_flags<ExplainOptions>(r);
  const auto [ckpt, model, corpus] = open_scoring(r);
  const std::string out = r["out"].as<std::string>();
  write_page(out, "explain", explain_data(*model, corpus.bytes, o, ckpt + " on " + corpus.describe));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

int report(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Writes RUN/report.html (or --out): training and validation curves against steps, "
                                 "bytes and FLOPs, learning rate, gradient norm, throughput, the options and samples "
                                 "generated at each checkpoint; two or more runs are drawn on the same charts.");
  opts.add_options()("runs", "run folders", cxxopts::value<std::vector<std::string>>())(
      "samples", "bytes generated from each checkpoint (0: none)", cxxopts::value<int64_t>()->default_value("200"))(
      "out", "the page to write (default: the first run's report.html)", cxxopts::value<std::string>());
  opts.parse_positional({"runs"});
  opts.positional_help("RUN [RUN ...]");
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("runs"), "name a run folder: megabyte report RUN [RUN ...]");
  const auto runs = r["runs"].as<std::vector<std::string>>();
  const int64_t samples = r["samples"].as<int64_t>();
  MB_CHECK(samples >= 0 && samples <= 1 << 16, "--samples must be 0 to 65536, got ", samples);
  const std::string out = r.count("out") ? r["out"].as<std::string>() : runs[0] + "/report.html";
  write_page(out, "report", report_data(runs, samples));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace mb::cli
