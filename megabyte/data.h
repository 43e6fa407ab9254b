// Training data as bytes: any file or folder, decoded by format, split into a training part
// and a held-out validation tail, and cut into windows by the seeded counter-based RNG.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "megabyte/codecs/media.h"
#include "tensor/names.h"
#include "tensor/tensor.h"

namespace mb {

// raw: the file's bytes as they are (text, mu-law audio, anything);
// idx: MNIST/Fashion-MNIST idx files (optionally .gz): the header is stripped, the pixels
//      (or labels) stay in raster order, one record (28·28 bytes) after another;
// ppm: binary PPM (P6, maxval 255): the RGB bytes in raster order.
// auto: idx by magic number, ppm by its "P6" header, raw otherwise.
enum class DataFormat { automatic, raw, idx, ppm };
template <> struct EnumNames<DataFormat> {
  static constexpr std::pair<DataFormat, const char*> table[] = {
      {DataFormat::automatic, "auto"}, {DataFormat::raw, "raw"}, {DataFormat::idx, "idx"}, {DataFormat::ppm, "ppm"}};
};

struct Corpus {
  std::vector<uint8_t> bytes;
  int64_t record = 0;      // bytes per record (an image) when the format has records, else 0
  ImageShape image;        // the images' shape (idx, PPM); width 0 for other data
  std::string describe;    // "tinyshakespeare.txt (1,115,394 bytes, raw)"

  // A file, or every regular file under a folder (sorted by path) concatenated.
  static Corpus load(const std::string& path, DataFormat format = DataFormat::automatic);
  // The bytes of one file (already inflated when it was .gz), decoded; `path` names it in errors.
  static Corpus decode(const std::string& bytes, DataFormat format, const std::string& path);
};

// The order a model reads images in: raster (as stored) or the paper's patch scan
// (megabyte/codecs/media.h). apply_scan reorders every image of an image corpus in place.
enum class Scan { raster, patch };
template <> struct EnumNames<Scan> {
  static constexpr std::pair<Scan, const char*> table[] = {{Scan::raster, "raster"}, {Scan::patch, "patch"}};
};
void apply_scan(Corpus& c, Scan scan, int64_t patch);

// [0, n - val) for training, [n - val, n) for validation, val = round(n · fraction); the
// validation tail starts at a record boundary when the corpus has records.
struct Split {
  int64_t train_end;  // == validation begin
  int64_t size;
};
Split split_corpus(const Corpus& c, double val_fraction);

// Start offsets of B windows of T bytes inside [begin, end): window i starts at a uniform
// offset drawn from Philox(seed) at counter (counter + i), at a record boundary (a multiple of
// `record` from begin) when `record` > 0. Every window lies inside [begin, end).
std::vector<int64_t> window_offsets(int64_t begin, int64_t end, int64_t B, int64_t T, uint64_t seed,
                                    uint64_t counter, int64_t record = 0);
// (B, T) u8: the windows at window_offsets(...) of data.
Tensor sample_windows(const std::vector<uint8_t>& data, int64_t begin, int64_t end, int64_t B,
                      int64_t T, uint64_t seed, uint64_t counter, int64_t record = 0);

// A file the repository ships (the default corpus, the zoo model), by its path in the
// repository: from the source tree the program was built in, or else from an installation's
// share/megabyte/ (beside the lib/ folder of this library).
std::string shipped_file(const std::string& relative);

// The bytes [begin, begin + T) as a (1, T) u8 tensor.
Tensor window_at(const std::vector<uint8_t>& data, int64_t begin, int64_t T);

}  // namespace mb
