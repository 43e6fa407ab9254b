// megabyte: train, evaluate, sample and check byte-level MEGABYTE models.
#include <cstdio>
#include <cstring>
#include <string>

#include "megabyte/cli.h"
#include "tensor/error.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"verify", mb::cli::verify, "check the model against a reference fixture (logits, gradients, AdamW)"},
};

void usage(FILE* to) {
  std::fprintf(to, "usage: megabyte <command> [options]   (megabyte <command> --help for its options)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(to, "  %-10s %s\n", c.name, c.help);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    std::string prog = std::string("megabyte ") + c.name;
    argv[1] = prog.data();
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "megabyte %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "megabyte: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
