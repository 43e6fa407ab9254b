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
  add_table_flags<TrainOptions>(opts);  // one flag per training option (MB_TRAIN_FIELDS)
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;

  TrainOptions flags, o;
  set_from_flags(flags, r);
  // a paper preset trains with the paper's recipe (its optimizer, schedule and batch), under any
  // flag given
  if (!flags.resume) o.from_metadata(find_preset(r["preset"].as<std::string>()).recipe);
  set_from_flags(o, r);
  MB_CHECK(!o.resume || (!config_flags_given(r) && !r.count("preset")), "--resume takes the model config from the ",
           "checkpoint; drop --preset, --config and the model field flags");
  const TrainResult res = train(o.resume ? Config() : config_from_flags(r), o);
  return res.interrupted ? 130 : 0;
}

}  // namespace mb::cli
