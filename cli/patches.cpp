// megabyte patches --data FILE [--patcher fixed|space|entropy] [--patch P] [--max-len N]
//                  [--ckpt SMALL --rule above|rise (--mean L | --theta X)] [--offset N] [--bytes M] [--show K]
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/data.h"
#include "megabyte/evaluate.h"
#include "megabyte/patcher.h"

namespace mb::cli {

namespace {
// the first `show` bytes with a '|' before each patch start; newlines as ↵, other control
// bytes as ·
void show_patches(const std::vector<uint8_t>& bytes, const std::vector<int64_t>& starts, int64_t show) {
  size_t next = 0;
  bool line_open = false;  // something printed since the last newline
  for (int64_t t = 0; t < std::min<int64_t>(show, int64_t(bytes.size())); ++t) {
    if (next < starts.size() && starts[next] == t) {
      std::fputc('|', stdout);
      ++next;
    }
    const uint8_t b = bytes[size_t(t)];
    if (b == '\n') std::fputs("\u21b5\n", stdout);
    else if (b < 32 || b == 127) std::fputs("\u00b7", stdout);
    else std::fputc(b, stdout);
    line_open = b != '\n';
  }
  if (line_open) std::fputc('\n', stdout);
}
}  // namespace

int patches(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Where patches start in a span of bytes, by MEGABYTE's rule (every P bytes), "
                                 "SpaceByte's (after space-like bytes) or the Byte Latent Transformer's (where a small "
                                 "model's next-byte entropy is high, given by --ckpt): the number of patches, their mean "
                                 "and longest length, and the first bytes with each patch start marked '|'.");
  add_flags(opts, {Flag::data, Flag::format, Flag::ckpt, Flag::threads, Flag::weights});
  opts.add_options()("patcher", "fixed, space or entropy", cxxopts::value<std::string>()->default_value("space"))(
      "patch", "P of the fixed patcher", cxxopts::value<int64_t>()->default_value("4"))(
      "max-len", "the longest patch (space and entropy)", cxxopts::value<int64_t>()->default_value("16"))(
      "rule", "entropy: above (H[t] > theta) or rise (H[t] - H[t-1] > theta)",
      cxxopts::value<std::string>()->default_value("above"))(
      "mean", "entropy: choose theta for this mean patch length", cxxopts::value<double>()->default_value("4"))(
      "theta", "entropy: this threshold (bits) instead of --mean", cxxopts::value<double>())(
      "offset", "first byte of the span", cxxopts::value<int64_t>()->default_value("0"))(
      "bytes", "bytes in the span (0: to the end)", cxxopts::value<int64_t>()->default_value("0"))(
      "show", "bytes to print with the patch starts marked", cxxopts::value<int64_t>()->default_value("240"));
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("data"), "--data is required");
  apply_threads_flag(r);
  const Corpus corpus = Corpus::load(r["data"].as<std::string>(), enum_flag<DataFormat>(r, "format"));
  const int64_t size = int64_t(corpus.bytes.size()), offset = r["offset"].as<int64_t>(), want = r["bytes"].as<int64_t>();
  MB_CHECK(offset >= 0 && offset < size, "--offset ", offset, " is outside the data (", size, " bytes)");
  MB_CHECK(want >= 0, "--bytes must be >= 0, got ", want);
  const int64_t n = want == 0 ? size - offset : std::min(want, size - offset);
  const std::vector<uint8_t> span(corpus.bytes.begin() + offset, corpus.bytes.begin() + offset + n);
  const PatchRule rule = enum_flag<PatchRule>(r, "patcher");
  const int64_t max_len = r["max-len"].as<int64_t>();
  std::vector<int64_t> starts;
  std::string how;
  if (rule == PatchRule::fixed) {
    starts = fixed_patches(n, r["patch"].as<int64_t>());
    how = cat("fixed, P = ", r["patch"].as<int64_t>());
  } else if (rule == PatchRule::space) {
    starts = space_patches(span, max_len);
    how = cat("space-like bytes, at most ", max_len);
  } else {
    const std::string ckpt = checkpoint_or_zoo(r);
    const std::vector<double> H = next_byte_entropy(*inference_model(ckpt, r), span);
    const EntropyRule er = enum_flag<EntropyRule>(r, "rule");
    const double theta = r.count("theta") ? r["theta"].as<double>() : entropy_threshold(H, er, r["mean"].as<double>(), max_len);
    starts = entropy_patches(H, theta, er, max_len);
    how = cat("entropy ", name_of(er), " ", theta, " bits (", ckpt, "), at most ", max_len);
  }
  int64_t longest = 0;
  for (size_t i = 0; i < starts.size(); ++i) longest = std::max(longest, (i + 1 < starts.size() ? starts[i + 1] : n) - starts[i]);
  std::printf("%s: bytes %lld to %lld\npatches by %s: %zu patches, mean %.3f bytes, longest %lld\n", corpus.describe.c_str(),
              static_cast<long long>(offset), static_cast<long long>(offset + n), how.c_str(), starts.size(),
              mean_patch_length(starts, n), static_cast<long long>(longest));
  show_patches(span, starts, r["show"].as<int64_t>());
  return 0;
}

}  // namespace mb::cli
