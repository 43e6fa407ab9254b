#include <iostream>

#include "megabyte/cli.h"
#include "tensor/error.h"

namespace mb::cli {

bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& out) {
  opts.add_options()("h,help", "show this help");
  try {
    out = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw Error(std::string(e.what()) + " (see --help)");
  }
  if (out.count("help")) {
    std::cout << opts.help() << std::flush;
    return false;
  }
  return true;
}

}  // namespace mb::cli
