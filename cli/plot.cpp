// megabyte plot RUN_DIR: loss and validation bits per byte against step, as RUN_DIR/curves.png
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli/cli.h"
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
  // The script is fixed text; the paths and the title reach gnuplot as its arguments ARG1..3
  // (strings, never parsed as gnuplot code), and gnuplot runs without a shell in between.
  const std::string script =
      "set datafile separator ','\n"
      "set terminal png size 900,540 noenhanced\n"
      "set output ARG2\n"
      "set title 'training run '.ARG3\n"
      "set xlabel 'step'\nset ylabel 'bits per byte'\nset grid\nset key top right\n"
      "plot ARG1 every ::1 using 1:4 with lines lc rgb '#9ecae1' title 'train (per step)', "
      "ARG1 every ::1 using 1:($6 == $6 ? $6 : 1/0) with linespoints pt 7 lc rgb '#d62728' title 'validation'\n";
  // gnuplot draws into a private temporary file (in /tmp, not beside the PNG); the PNG then
  // goes to its place as every writer's file does (nn::write_file_atomic: checked, synced,
  // renamed; a device written in place)
  char script_path[] = "/tmp/megabyte_plot_XXXXXX", drawn[] = "/tmp/megabyte_plot_png_XXXXXX";
  const int fd = mkstemp(script_path);
  MB_CHECK(fd >= 0, "cannot create a temporary gnuplot script (", std::strerror(errno), ")");
  const bool written = ::write(fd, script.data(), script.size()) == ssize_t(script.size());
  ::close(fd);
  const int dfd = mkstemp(drawn);
  int status = -1;
  if (written && dfd >= 0) {
    ::close(dfd);
    const char* args[] = {"gnuplot", "-c", script_path, csv.c_str(), drawn, run.c_str(), nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "gnuplot", nullptr, nullptr, const_cast<char* const*>(args), environ) == 0)
      waitpid(pid, &status, 0);
  }
  std::remove(script_path);
  std::string bytes;
  try {
    if (status == 0) bytes = nn::read_file(drawn);
  } catch (...) {
    std::remove(drawn);
    throw;
  }
  std::remove(drawn);
  if (status != 0 || bytes.empty())
    throw Error("gnuplot failed (status " + std::to_string(status) + "; is gnuplot-nox installed?)");
  nn::write_file_atomic(png, bytes);
  std::printf("wrote %s\n", png.c_str());
  return 0;
}

}  // namespace mb::cli
