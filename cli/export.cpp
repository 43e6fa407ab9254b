// megabyte export --ckpt RUN_OR_FILE --out FILE: the model alone (no optimizer state)
#include <cstdio>

#include "megabyte/checkpoint.h"
#include "cli/cli.h"

namespace mb::cli {

int export_model(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Write the weights and config of a checkpoint without its optimizer state: a third "
                                 "of the size, for sharing, `generate` and `eval`.");
  add_flags(opts, {Flag::ckpt});
  opts.add_options()("out", "the model file to write (.safetensors)", cxxopts::value<std::string>());
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;
  MB_CHECK(r.count("ckpt") && r.count("out"), "--ckpt and --out are required");
  const std::string from = resolve_checkpoint(r["ckpt"].as<std::string>());
  const Checkpoint ck = load_checkpoint(from);
  auto model = make_model(ck.config);
  model->load_state_dict(ck.model);
  std::map<std::string, std::string> train = ck.train;
  train["from"] = from;
  save_checkpoint(r["out"].as<std::string>(), *model, nullptr, train);
  std::printf("wrote %s: %lld parameters (%s)\n", r["out"].as<std::string>().c_str(),
              static_cast<long long>(model->num_parameters()), ck.config.summary().c_str());
  return 0;
}

}  // namespace mb::cli
