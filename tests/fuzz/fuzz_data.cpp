// Fuzz target: the data parsers. The input as a data file (raw, idx, PPM by its first bytes),
// its images in patch-scan order, the split and the windows; and its first line as an image
// shape ("28x28") and as a list of mid stages ("8:256:2:4"). Any input must end in data or an
// mb::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "megabyte/config.h"
#include "megabyte/data.h"
#include "megabyte/codecs/media.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    mb::Corpus c = mb::Corpus::decode(bytes, mb::DataFormat::automatic, "input");
    if (c.image.width > 0) {
      for (int64_t patch : {1, 3, 4, 12}) {
        try {
          std::vector<uint8_t> copy = c.bytes;
          mb::patch_scan_all(copy, c.image, patch);
        } catch (const mb::Error&) {
        }
      }
    }
    const mb::Split s = mb::split_corpus(c, 0.1);
    if (s.train_end >= 4) (void)mb::window_offsets(0, s.train_end, 3, 4, 1, 0, c.record);
  } catch (const mb::Error&) {
  }
  const std::string line = bytes.substr(0, bytes.find('\n'));
  try {
    (void)mb::image_shape_from_string(line);
  } catch (const mb::Error&) {
  }
  try {
    std::vector<mb::MidStage> mids;
    mb::parse_field("mid", line, mids);
  } catch (const mb::Error&) {
  }
  return 0;
}
