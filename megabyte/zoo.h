// The model zoo: named configurations. The small ones train here; the paper's are listed with
// their published sizes so that `megabyte info` can report them, even where they are far too
// big to build on this machine.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "megabyte/config.h"

namespace mb {

struct Preset {
  std::string name;
  std::string description;
  Config config;
  int64_t batch;       // batch size of the paper's run or our benchmark
  std::string source;  // where the numbers come from
  std::string note;    // caveats; empty when the config builds as given
  // Training options of the paper's runs (App. A.1 and Table 15), by option key: `megabyte
  // train --preset` starts from them, under any flag given. Empty: our defaults.
  std::map<std::string, std::string> recipe;
};

const std::vector<Preset>& presets();
const Preset& find_preset(const std::string& name);  // throws listing the known names

// Trained models that ship with the repository: megabyte/zoo/NAME.safetensors, each with its
// card (data, steps, time, machine, held-out bpb, the command) in megabyte/zoo/README.md.
struct TrainedModel {
  std::string name;
  std::string description;  // one line: model, data, held-out bpb
};
const std::vector<TrainedModel>& trained_models();
std::string zoo_file(const TrainedModel& m);  // its shipped file
// The argument where a file of that name exists, else the file of the zoo model it names;
// throws naming both where it is neither.
std::string model_file(const std::string& name_or_path);

}  // namespace mb
