// megabyte plot RUN_DIR: loss and validation bits per byte against step, as RUN_DIR/curves.png
#include <cstdio>
#include <filesystem>

#include "megabyte/cli.h"
#include "nn/safetensors.h"

namespace mb::cli {

int plot(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Draw the training (bits per byte) and validation curves of a run with gnuplot.");
  opts.add_options()("run", "run folder (with log.csv)", cxxopts::value<std::string>())(
      "out", "PNG file (default: RUN/curves.png)", cxxopts::value<std::string>());
  opts.parse_positional({"run"});
  opts.positional_help("RUN_DIR");
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("run"), "a run folder is required (megabyte plot RUN_DIR)");
  const std::string run = r["run"].as<std::string>(), csv = run + "/log.csv";
  MB_CHECK(std::filesystem::exists(csv), csv, ": no training log here");
  const std::string png = r.count("out") ? r["out"].as<std::string>() : run + "/curves.png";
  const std::string tmp = png + ".tmp";
  const std::string script =
      "set datafile separator ','\n"
      "set terminal png size 900,540\n"
      "set output '" + tmp + "'\n"
      "set title 'training run " + run + "'\n"
      "set xlabel 'step'\nset ylabel 'bits per byte'\nset grid\nset key top right\n"
      "plot '" + csv + "' every ::1 using 1:4 with lines lc rgb '#9ecae1' title 'train (per step)', "
      "'" + csv + "' every ::1 using 1:($6 == $6 ? $6 : 1/0) with linespoints pt 7 lc rgb '#d62728' title 'validation'\n";
  FILE* gp = popen("gnuplot 2>&1", "w");
  MB_CHECK(gp != nullptr, "cannot start gnuplot (install it: apt-get install gnuplot-nox)");
  std::fwrite(script.data(), 1, script.size(), gp);
  const int status = pclose(gp);
  if (status != 0 || !std::filesystem::exists(tmp)) {
    std::remove(tmp.c_str());
    throw Error("gnuplot failed (exit status " + std::to_string(status) + "; is gnuplot-nox installed?)");
  }
  std::filesystem::rename(tmp, png);
  std::printf("wrote %s\n", png.c_str());
  return 0;
}

}  // namespace mb::cli
