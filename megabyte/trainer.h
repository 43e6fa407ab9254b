// The training loop: seeded batches from the training split, AdamW with warmup + cosine or
// polynomial decay, gradient clipping and accumulation, periodic validation, a CSV log of
// every step, atomic checkpoints, and exact resume (bitwise the same losses as a run that
// never stopped, for the same thread count).
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>

#include "megabyte/config.h"
#include "megabyte/data.h"
#include "nn/optim.h"

namespace mb {

// X(type, member, "key", default, rule, "group", "help"): the training options, once. Every
// option is a flag of `megabyte train` (the key with '_' spelled '-', under its group in
// --help). The "data" and "training" groups are kept in every checkpoint and a resumed run
// takes them from there; the "run" group is how this invocation runs (threads, device, where
// and how often it writes) and always comes from its own command line.
#define MB_TRAIN_FIELDS(X)                                                                                        \
  X(std::string, data, "data", "", any(), "data",                                                                 \
    "file or folder of files, used as bytes (default: data/tinyshakespeare.txt, shipped)")                        \
  X(DataFormat, format, "format", DataFormat::automatic, any(), "data", "data format: auto, raw, idx (MNIST), ppm") \
  X(Scan, scan, "scan", Scan::raster, any(), "data",                                                              \
    "image byte order: raster, or patch (tiles of sqrt(P/channels) pixels, the paper's patch scan)")              \
  X(double, val_fraction, "val_fraction", 0.1, in_below(0, 1), "data", "held-out tail for validation")            \
  X(int64_t, steps, "steps", 2000, in(1, kMaxCount), "training", "optimizer steps")                               \
  X(int64_t, batch, "batch", 8, in(1, kMaxBatch), "training", "sequences per micro-batch")                        \
  X(int64_t, grad_accum, "grad_accum", 1, in(1, kMaxBatch), "training", "micro-batches per step")                 \
  X(double, lr, "lr", 2e-3, in(0, 1e3, true), "training", "peak learning rate")                                   \
  X(double, min_lr, "min_lr", 2e-4, at_least(0), "training", "final learning rate (at most --lr)")                \
  X(int64_t, warmup, "warmup", 100, in(0, kMaxCount), "training", "linear warmup steps")                          \
  X(nn::LrSchedule::Kind, schedule, "schedule", nn::LrSchedule::Kind::cosine, any(), "training",                   \
    "cosine, polynomial (the paper's, to --min-lr) or constant")                                                  \
  X(double, clip, "clip", 1.0, at_least(0), "training", "gradient-norm clip (0: off)")                            \
  X(double, weight_decay, "weight_decay", 0.1, at_least(0), "training",                                           \
    "AdamW decay of matrices and tables")                                                                         \
  X(double, beta1, "beta1", 0.9, in_below(0, 1), "training", "AdamW beta1")                                       \
  X(double, beta2, "beta2", 0.95, in_below(0, 1), "training", "AdamW beta2")                                      \
  X(uint64_t, seed, "seed", 0, any(), "training", "seed of init, batches and dropout")                            \
  X(double, entropy_mean, "entropy_mean", 4.0, in(1, kMaxWidth), "training",                                      \
    "spacebyte --patcher entropy: choose the threshold for this mean patch length (when --entropy-theta is 0)")   \
  X(int64_t, eval_every, "eval_every", 200, in(0, kMaxCount), "training",                                         \
    "validate every N steps (0: only at the end)")                                                                \
  X(int64_t, eval_windows, "eval_windows", 32, in(1, kMaxBatch), "training", "validation windows")                \
  X(int, threads, "threads", 0, in(0, 4096), "run", "CPU threads (0: OMP_NUM_THREADS or all cores)")              \
  X(bool, recompute, "recompute", false, any(), "run",                                                            \
    "activation recomputation: keep only each block's input, run it again in backward")                           \
  X(Device, device, "device", Device::CPU, any(), "run", "cpu or cuda")                                           \
  X(nn::Precision, precision, "precision", nn::Precision::fp32, any(), "run",                                     \
    "fp32, or bf16 (the transformer stacks in bf16 on tensor cores, f32 master weights; cuda only)")                                           \
  X(std::string, out, "out", "runs/run", any(), "run", "run folder")                                              \
  X(bool, resume, "resume", false, any(), "run",                                                                  \
    "continue from the newest checkpoint in --out (its config and options)")                                      \
  X(int64_t, log_every, "log_every", 10, in(1, kMaxCount), "run", "progress line every N steps")                  \
  X(int64_t, ckpt_every, "ckpt_every", 500, in(0, kMaxCount), "run", "checkpoint every N steps (and at the end)") \
  X(int64_t, keep, "keep", 3, in(1, kMaxBatch), "run", "checkpoints kept")                                        \
  X(int64_t, stop_at, "stop_at", 0, in(0, kMaxCount), "run",                                                      \
    "stop after this many steps as if interrupted (0: never)")                                                    \
  X(bool, accept_new_data, "accept_new_data", false, any(), "run",                                                \
    "with --resume: train on although the data differ from the checkpoint's (size or hash)")                      \
  X(bool, quiet, "quiet", false, any(), "run", "no progress output")

struct TrainOptions {
  // the members, set/get by key, fields(), and `given`: on --resume, a given "run" option
  // applies, and so does --steps (train longer or shorter) and --eval-every; any other given
  // option must equal the checkpoint's, or the run is refused naming it
  MB_OPTIONS(MB_TRAIN_FIELDS)

  void validate() const;
  // The "data" and "training" options as key -> text: what a checkpoint keeps.
  std::map<std::string, std::string> to_metadata() const;
  // Sets the kept options found in m (a checkpoint's); the others stay as they are.
  void from_metadata(const std::map<std::string, std::string>& m);
};

struct TrainResult {
  int64_t steps_done = 0;
  double last_loss = 0, last_val_bpb = -1;
  bool interrupted = false;
  std::string checkpoint;  // the last one written
};

// Trains `config` (ignored when resuming: the checkpoint's config is used).
TrainResult train(Config config, TrainOptions opt);

// The ckpt_<step>.safetensors of a run folder, oldest step first; the newest ("" when none).
std::vector<std::string> checkpoints(const std::string& dir);
std::string latest_checkpoint(const std::string& dir);

// The corpus the repository ships (data/tinyshakespeare.txt under the source tree).
std::string default_corpus();

}  // namespace mb
