// The `megabyte` command line: one function per subcommand, each taking the arguments after
// the subcommand's name (argv[0] is "megabyte <command>") and returning the exit code.
#pragma once
#include <cxxopts.hpp>

namespace mb::cli {

int verify(int argc, char** argv);

// Parses argv with `opts`, adding -h/--help; prints help and returns false when asked for it.
// Unknown or malformed flags throw an mb::Error naming them.
bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& out);

}  // namespace mb::cli
