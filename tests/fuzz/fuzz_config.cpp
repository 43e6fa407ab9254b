// Fuzz target: a JSON config file (--config) read over the default config, with the sizes
// computed from it, and the same JSON's values as training options. Any input must end in a
// valid config or an mb::Error.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "megabyte/config.h"
#include "megabyte/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    std::map<std::string, std::string> meta = mb::Config().to_metadata();
    mb::apply_config_json(meta, text, "input");
    const mb::Config c = mb::Config::from_metadata(meta);
    (void)mb::model_size(c).total();
    (void)mb::forward_flops_per_byte(c);
    (void)mb::training_memory(c, 8).total();
    (void)c.summary();
  } catch (const mb::Error&) {
  }
  // the values of a JSON object as training options, one by one, then validated together
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return 0;
  mb::TrainOptions o;
  for (auto it = j.begin(); it != j.end(); ++it) {
    try {
      o.set(it.key(), it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    } catch (const mb::Error&) {
    }
  }
  try {
    o.validate();
  } catch (const mb::Error&) {
  }
  return 0;
}
