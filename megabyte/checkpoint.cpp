#include "megabyte/checkpoint.h"

#include "nn/safetensors.h"

namespace mb {

namespace {
constexpr const char* kFormat = "megabyte-checkpoint-v1";
bool starts_with(const std::string& s, const std::string& head) { return s.rfind(head, 0) == 0; }
}  // namespace

void save_checkpoint(const std::string& path, ByteModel& model, const nn::AdamW* optim,
                     const std::map<std::string, std::string>& train) {
  std::map<std::string, Tensor> tensors = model.state_dict();
  if (optim)
    for (auto& [name, t] : optim->state()) tensors["optim." + name] = t;
  std::map<std::string, std::string> meta = model.config().to_metadata();
  meta["format"] = kFormat;
  for (auto& [k, v] : train) meta["train." + k] = v;
  nn::save_safetensors(path, tensors, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  nn::SafeTensors st = nn::load_safetensors(path, true);
  auto fmt = st.metadata.find("format");
  MB_CHECK(fmt != st.metadata.end() && fmt->second == kFormat, path, ": not a megabyte checkpoint (format '",
           fmt == st.metadata.end() ? std::string("none") : fmt->second, "', expected ", kFormat, ")");
  Checkpoint c;
  std::map<std::string, std::string> config_meta;
  for (auto& [k, v] : st.metadata) {
    if (starts_with(k, "train.")) c.train[k.substr(6)] = v;
    else if (k != "format") config_meta[k] = v;
  }
  try {
    c.config = Config::from_metadata(config_meta);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  for (auto& [name, t] : st.tensors) {
    if (starts_with(name, "optim.")) c.optim[name.substr(6)] = t;
    else c.model[name] = t;
  }
  return c;
}

std::unique_ptr<ByteModel> load_model(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  auto model = make_model(c.config);
  try {
    model->load_state_dict(c.model);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return model;
}

}  // namespace mb
