// The training loop: seeded batches from the training split, AdamW with warmup + cosine or
// polynomial decay, gradient clipping and accumulation, periodic validation, a CSV log of
// every step, atomic checkpoints, and exact resume (bitwise the same losses as a run that
// never stopped, for the same thread count).
#pragma once
#include <functional>
#include <map>
#include <string>

#include "megabyte/config.h"

namespace mb {

struct TrainOptions {
  std::string data;                  // file or folder; empty: the corpus the repo ships
  std::string format = "auto";       // data format: auto, raw, idx, ppm
  std::string scan = "raster";       // image byte order: raster or patch (the paper's patch scan)
  double val_fraction = 0.1;         // held-out tail of the data, never trained on
  int64_t steps = 2000, batch = 8, grad_accum = 1;
  double lr = 2e-3, min_lr = 2e-4;   // peak and final learning rate
  int64_t warmup = 100;
  std::string schedule = "cosine";   // cosine, polynomial (the paper's, to min_lr) or constant
  double clip = 1.0, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95;
  uint64_t seed = 0;
  int threads = 0;                   // 0: OMP_NUM_THREADS or all cores
  bool recompute = false;            // activation recomputation (less memory, ~1/3 more compute)
  std::string device = "cpu";        // cpu or cuda
  std::string precision = "fp32";    // fp32, or bf16 (GEMMs in bf16, f32 master weights; cuda only)
  int64_t eval_every = 200, eval_windows = 32, log_every = 10;
  int64_t ckpt_every = 500, keep = 3;
  std::string out = "runs/run";
  bool resume = false;
  int64_t stop_at = 0;               // stop (as if interrupted) after this many steps; 0: never
  bool quiet = false;

  void validate() const;
  std::map<std::string, std::string> to_metadata() const;      // what a checkpoint keeps
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

// The newest ckpt_*.safetensors in a run folder ("" when there is none).
std::string latest_checkpoint(const std::string& dir);

// The corpus the repository ships (data/tinyshakespeare.txt under the source tree).
std::string default_corpus();

}  // namespace mb
