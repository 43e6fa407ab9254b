// `megabyte verify`: checks our model against a reference fixture (format
// "megabyte-fixture-v1", tests/fixtures/README.md): logits, loss, every gradient and the AdamW
// trajectory.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace mb {

struct VerifyCheck {
  std::string name;  // "logits", "loss", "grad.<param>", "train.loss", "train.final.<param>"
  std::string kind;  // "max abs" or "rel" (max abs / max |reference|)
  double error = 0, tolerance = 0;
  bool ok() const { return error <= tolerance; }
};

struct VerifyReport {
  std::string summary;  // the config, one line
  std::vector<VerifyCheck> checks;
  bool ok() const;
};

// The reference tolerances (tests/fixtures/README.md) for f64 and f32; f32 skips train.final. The
// model runs on `device` (the comparison happens on the CPU).
VerifyReport verify_fixture(const std::string& path, DType dtype, Device device = Device::CPU);

}  // namespace mb
