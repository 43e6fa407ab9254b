// megabyte train [--data PATH] [--preset NAME | --config FILE.json] [field flags] [options]
#include <cstdio>

#include "cli/cli.h"
#include "megabyte/trainer.h"
#include "megabyte/zoo.h"

namespace mb::cli {

int train(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Train a byte model on any file or folder (default: the corpus the repo ships). "
                                 "Progress goes to stdout, every step to RUN/log.csv, checkpoints to RUN/ckpt_*.safetensors. "
                                 "Ctrl-C saves a checkpoint and stops; --resume continues bit for bit.");
  add_config_flags(opts, "tiny");
  // one flag per training option (MB_TRAIN_FIELDS); values go through the option's own parser
  for (const FieldInfo& f : TrainOptions::fields()) add_field_flag(opts, f, f.group);
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;

  TrainOptions o;
  // a paper preset trains with the paper's recipe (its optimizer, schedule and batch), under any
  // flag given
  if (!r.count("resume")) o.from_metadata(find_preset(r["preset"].as<std::string>()).recipe);
  for (const FieldInfo& f : TrainOptions::fields()) {
    const std::string flag = flag_of(f.key);
    if (r.count(flag)) o.set(f.key, f.is_bool ? "1" : r[flag].as<std::string>());
  }
  MB_CHECK(!o.resume || (!config_flags_given(r) && !r.count("preset")), "--resume takes the model config from the ",
           "checkpoint; drop --preset, --config and the model field flags");
  const TrainResult res = train(o.resume ? Config() : config_from_flags(r), o);
  return res.interrupted ? 130 : 0;
}

}  // namespace mb::cli
