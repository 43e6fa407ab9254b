// megabyte train [--data PATH] [--preset NAME | --config FILE.json] [field flags] [options]
#include <cstdio>

#include "megabyte/cli.h"
#include "megabyte/trainer.h"

namespace mb::cli {

int train(int argc, char** argv) {
  const TrainOptions d;
  cxxopts::Options opts(argv[0], "Train a byte model on any file or folder (default: the corpus the repo ships). "
                                 "Progress goes to stdout, every step to RUN/log.csv, checkpoints to RUN/ckpt_*.safetensors. "
                                 "Ctrl-C saves a checkpoint and stops; --resume continues bit for bit.");
  add_config_flags(opts, "tiny");
  auto num = [](double v) { return cat(v); };
  opts.add_options("data")("data", "file or folder of files, used as bytes",
                           cxxopts::value<std::string>()->default_value(default_corpus()))(
      "format", "data format: auto, raw, idx (MNIST), ppm", cxxopts::value<std::string>()->default_value(d.format))(
      "scan", "image byte order: raster, or patch (tiles of sqrt(P/channels) pixels, the paper's patch scan)",
      cxxopts::value<std::string>()->default_value(d.scan))(
      "val-fraction", "held-out tail for validation", cxxopts::value<double>()->default_value(num(d.val_fraction)));
  opts.add_options("training")("steps", "optimizer steps", cxxopts::value<int64_t>()->default_value(num(double(d.steps))))(
      "batch", "sequences per micro-batch", cxxopts::value<int64_t>()->default_value(num(double(d.batch))))(
      "grad-accum", "micro-batches per step", cxxopts::value<int64_t>()->default_value(num(double(d.grad_accum))))(
      "lr", "peak learning rate", cxxopts::value<double>()->default_value(num(d.lr)))(
      "min-lr", "final learning rate", cxxopts::value<double>()->default_value(num(d.min_lr)))(
      "warmup", "linear warmup steps", cxxopts::value<int64_t>()->default_value(num(double(d.warmup))))(
      "schedule", "cosine, polynomial (the paper's) or constant", cxxopts::value<std::string>()->default_value(d.schedule))(
      "clip", "gradient-norm clip (0: off)", cxxopts::value<double>()->default_value(num(d.clip)))(
      "weight-decay", "AdamW decay of matrices and tables", cxxopts::value<double>()->default_value(num(d.weight_decay)))(
      "seed", "seed of init, batches and dropout", cxxopts::value<uint64_t>()->default_value("0"))(
      "threads", "CPU threads (0: all)", cxxopts::value<int>()->default_value("0"))(
      "recompute", "activation recomputation: keep only each block's input, run it again in backward")(
      "device", "cpu or cuda", cxxopts::value<std::string>()->default_value(d.device))(
      "precision", "fp32, or bf16 (GEMMs in bf16 with f32 master weights; cuda only)",
      cxxopts::value<std::string>()->default_value(d.precision));
  opts.add_options("run")("out", "run folder", cxxopts::value<std::string>()->default_value(d.out))(
      "resume", "continue from the newest checkpoint in --out (its config and options)")(
      "eval-every", "validate every N steps (0: only at the end)", cxxopts::value<int64_t>()->default_value(num(double(d.eval_every))))(
      "eval-windows", "validation windows", cxxopts::value<int64_t>()->default_value(num(double(d.eval_windows))))(
      "log-every", "progress line every N steps", cxxopts::value<int64_t>()->default_value(num(double(d.log_every))))(
      "ckpt-every", "checkpoint every N steps (and at the end)", cxxopts::value<int64_t>()->default_value(num(double(d.ckpt_every))))(
      "keep", "checkpoints kept", cxxopts::value<int64_t>()->default_value(num(double(d.keep))))(
      "stop-at", "stop after this many steps as if interrupted (0: never)", cxxopts::value<int64_t>()->default_value("0"))(
      "quiet", "no progress output");
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r)) return 0;

  TrainOptions o;
  o.data = r["data"].as<std::string>();
  o.format = r["format"].as<std::string>();
  o.scan = r["scan"].as<std::string>();
  o.val_fraction = r["val-fraction"].as<double>();
  o.steps = r["steps"].as<int64_t>();
  o.batch = r["batch"].as<int64_t>();
  o.grad_accum = r["grad-accum"].as<int64_t>();
  o.lr = r["lr"].as<double>();
  o.min_lr = r["min-lr"].as<double>();
  o.warmup = r["warmup"].as<int64_t>();
  o.schedule = r["schedule"].as<std::string>();
  o.clip = r["clip"].as<double>();
  o.weight_decay = r["weight-decay"].as<double>();
  o.seed = r["seed"].as<uint64_t>();
  o.threads = r["threads"].as<int>();
  o.recompute = r.count("recompute") > 0;
  o.device = r["device"].as<std::string>();
  o.precision = r["precision"].as<std::string>();
  o.out = r["out"].as<std::string>();
  o.resume = r.count("resume") > 0;
  o.eval_every = r["eval-every"].as<int64_t>();
  o.eval_windows = r["eval-windows"].as<int64_t>();
  o.log_every = r["log-every"].as<int64_t>();
  o.ckpt_every = r["ckpt-every"].as<int64_t>();
  o.keep = r["keep"].as<int64_t>();
  o.stop_at = r["stop-at"].as<int64_t>();
  o.quiet = r.count("quiet") > 0;
  MB_CHECK(!o.resume || !config_flags_given(r), "--resume takes the model config from the checkpoint; "
                                                "drop --config and the model field flags");
  const TrainResult res = train(o.resume ? Config() : config_from_flags(r), o);
  return res.interrupted ? 130 : 0;
}

}  // namespace mb::cli
