// Fuzz target: the safetensors reader (checkpoints, fixtures, exported models) and the config
// in a file's metadata. Any input must end in a parsed file or an mb::Error: anything else (a
// crash, a sanitizer report, another exception, a giant allocation) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "megabyte/config.h"
#include "nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const mb::nn::SafeTensors st = mb::nn::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "input");
    for (const auto& [name, t] : st.tensors) (void)mb::all_finite(t);
    const mb::Config c = mb::Config::from_metadata(st.metadata);
    (void)mb::model_size(c).total();
  } catch (const mb::Error&) {
  }
  return 0;
}
