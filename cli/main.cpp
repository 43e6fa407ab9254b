// megabyte: train, evaluate, sample and check byte-level MEGABYTE models.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/cli.h"
#include "nn/distributed.h"
#include "tensor/error.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"train", mb::cli::train, "train a model on a file or folder of bytes"},
    {"eval", mb::cli::eval, "bits per byte of a checkpoint over a whole file"},
    {"generate", mb::cli::generate, "sample bytes from a checkpoint (KV-cached)"},
    {"info", mb::cli::info, "config, parameters, FLOPs and memory of a preset or checkpoint"},
    {"plot", mb::cli::plot, "draw a run's loss and validation curves (PNG, gnuplot)"},
    {"export", mb::cli::export_model, "write a checkpoint's model without its optimizer state"},
    {"bench", mb::cli::bench, "time training steps of a preset (forward / backward / optimizer)"},
    {"verify", mb::cli::verify, "check the model against a reference fixture (logits, gradients, AdamW)"},
    {"explain", mb::cli::explain, "an HTML page of where a checkpoint is surprised by a span of bytes"},
    {"report", mb::cli::report, "an HTML page of a run's curves, options and samples (or two runs side by side)"},
    {"patches", mb::cli::patches, "where patches start: fixed, after space-like bytes, or where a model's entropy is high"},
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
      const mb::nn::World& world = mb::nn::World::get();
      if (world.size() == 1) {
        std::fprintf(stderr, "megabyte %s: error: %s\n", c.name, e.what());
        return 1;
      }
      // one rank of a data-parallel job: say which, and end the others (they would wait for it)
      std::fprintf(stderr, "megabyte %s: rank %d of %d: error: %s\n", c.name, world.rank(), world.size(), e.what());
      world.abort(1);
    }
  }
  std::string names;
  for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
  std::fprintf(stderr, "megabyte: unknown command '%s' (commands: %s; see megabyte --help)\n", argv[1], names.c_str());
  return 2;
}
