// Checkpoints: one safetensors file holding the model's parameters under their own names (so
// the file is also a plain state dict that PyTorch loads), the AdamW moments as
// "optim.m.<name>" / "optim.v.<name>" (training checkpoints only), and in __metadata__ the
// config, format "megabyte-checkpoint-v1", and the training state as "train.*" strings.
// Written atomically with a checksum; loading refuses a file without a valid one.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "megabyte/model.h"
#include "nn/optim.h"

namespace mb {

struct Checkpoint {
  Config config;
  nn::StateDict model;                       // parameter name -> tensor
  nn::StateDict optim;                       // "m.<name>", "v.<name>"; empty in model-only files
  std::map<std::string, std::string> train;  // "step", "seed", ... (without the "train." prefix)
};

void save_checkpoint(const std::string& path, ByteModel& model, const nn::AdamW* optim,
                     const std::map<std::string, std::string>& train);
Checkpoint load_checkpoint(const std::string& path);

// The model a checkpoint describes, with its weights loaded.
std::unique_ptr<ByteModel> load_model(const std::string& path);

}  // namespace mb
