#include "megabyte/data.h"

#include <dlfcn.h>
#ifdef MB_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "nn/safetensors.h"
#include "tensor/philox.h"

namespace mb {

namespace fs = std::filesystem;

namespace {

std::string with_commas(int64_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A .gz file inflated, up to kMaxInflated bytes: a small file of zeros must not fill memory.
constexpr size_t kMaxInflated = size_t(512) << 20;
std::string gunzip(const std::string& path) {
#ifndef MB_HAVE_ZLIB
  throw Error(path + ": this build has no zlib: decompress the file first (gunzip)");
#else
  gzFile f = gzopen(path.c_str(), "rb");
  MB_CHECK(f != nullptr, path, ": cannot open");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    if (out.size() + size_t(n) > kMaxInflated) {
      gzclose(f);
      throw Error(cat(path, ": inflates to more than ", bytes_text(double(kMaxInflated)),
                      " (the limit for compressed data; decompress it yourself to use more)"));
    }
    out.append(buf, size_t(n));
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string why = msg ? msg : "";
  gzclose(f);
  MB_CHECK(n == 0 && err == Z_OK, path, ": not a valid gzip file (", why, ")");
  return out;
#endif
}

uint32_t big_endian32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 |
         uint32_t(uint8_t(b[at + 2])) << 8 | uint32_t(uint8_t(b[at + 3]));
}

bool is_idx(const std::string& b) {
  return b.size() >= 8 && b[0] == 0 && b[1] == 0 && b[2] == 8 && b[3] >= 1 && b[3] <= 4;
}

// idx: magic 00 00 08 <ndim>, then ndim big-endian u32 sizes, then the u8 data
Corpus decode_idx(const std::string& b, const std::string& path) {
  MB_CHECK(is_idx(b), path, ": not an idx file of unsigned bytes (magic 0x0000080N)");
  const int ndim = b[3];
  const size_t header = 4 + 4 * size_t(ndim);
  MB_CHECK(b.size() >= header, path, ": idx header is truncated");
  const int64_t data = int64_t(b.size() - header);
  int64_t count = 1, record = 1;
  for (int d = 0; d < ndim; ++d) {
    const int64_t n = big_endian32(b, 4 + 4 * size_t(d));
    // four sizes < 2^32 can multiply past 2^63 (the record too, when the count of records is 0):
    // such a header promises more than any file has
    const bool wraps = __builtin_mul_overflow(count, n, &count) || (d > 0 && __builtin_mul_overflow(record, n, &record));
    MB_CHECK(!wraps, path, ": idx header promises more than 2^63 bytes of data");
  }
  MB_CHECK(data == count, path, ": idx header promises ", count, " bytes of data, the file has ", data);
  Corpus c;
  c.bytes.assign(b.begin() + std::ptrdiff_t(header), b.end());
  c.record = ndim > 1 ? record : 0;
  if (ndim == 3) {  // (count, rows, cols)
    c.image = {big_endian32(b, 12), big_endian32(b, 8), 1};
    c.image.check(path + ": idx images");
  }
  return c;
}

// P6 <ws> width <ws> height <ws> 255 <one ws> RGB bytes; '#' comments in the header
Corpus decode_ppm(const std::string& b, const std::string& path) {
  size_t at = 2;
  auto number = [&]() {
    while (at < b.size() && (std::isspace(uint8_t(b[at])) || b[at] == '#')) {
      if (b[at] == '#')
        while (at < b.size() && b[at] != '\n') ++at;
      else
        ++at;
    }
    int64_t v = 0;
    bool any = false;
    while (at < b.size() && std::isdigit(uint8_t(b[at]))) {
      v = v * 10 + (b[at++] - '0');
      any = true;
      MB_CHECK(v <= (int64_t(1) << 31), path, ": a number in the PPM header is over 2^31");
    }
    MB_CHECK(any && v > 0, path, ": malformed PPM header");
    return v;
  };
  MB_CHECK(b.size() > 2 && b[0] == 'P' && b[1] == '6', path, ": not a binary PPM (P6) file");
  const int64_t w = number(), h = number(), maxval = number();
  MB_CHECK(maxval == 255, path, ": PPM maxval ", maxval, " (only 8-bit, 255, is supported)");
  const ImageShape img{w, h, 3};
  img.check(path + ": PPM");
  ++at;  // the single whitespace byte before the pixels
  MB_CHECK(int64_t(b.size()) - int64_t(at) == w * h * 3, path, ": PPM of ", w, "x", h, " needs ", w * h * 3,
           " bytes of pixels, the file has ", int64_t(b.size()) - int64_t(at));
  Corpus c;
  c.bytes.assign(b.begin() + std::ptrdiff_t(at), b.end());
  c.record = w * h * 3;
  c.image = {w, h, 3};
  return c;
}

}  // namespace

Corpus Corpus::decode(const std::string& b, DataFormat format, const std::string& path) {
  if (format == DataFormat::automatic)
    format = is_idx(b) ? DataFormat::idx : (b.size() > 2 && b[0] == 'P' && b[1] == '6' ? DataFormat::ppm : DataFormat::raw);
  if (format == DataFormat::idx) return decode_idx(b, path);
  if (format == DataFormat::ppm) return decode_ppm(b, path);
  Corpus c;
  c.bytes.assign(b.begin(), b.end());
  return c;
}

Corpus Corpus::load(const std::string& path, DataFormat format) {
  std::error_code ec;
  MB_CHECK(fs::exists(path, ec), path, ": no such file or folder");
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    fs::recursive_directory_iterator it(path, ec), end;
    for (; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) files.push_back(it->path().string());
    MB_CHECK(!ec, path, ": cannot read the folder (", ec.message(), ")");
    std::sort(files.begin(), files.end());
    MB_CHECK(!files.empty(), path, ": the folder has no files");
  } else {
    files.push_back(path);
  }
  Corpus all;
  for (const std::string& f : files) {
    Corpus c = Corpus::decode(ends_with(f, ".gz") ? gunzip(f) : nn::read_file(f), format, f);
    MB_CHECK(all.bytes.empty() || c.record == all.record, f, ": records of ", c.record,
             " bytes do not match the ", all.record, "-byte records of the files before it");
    all.record = c.record;
    all.image = c.image;
    all.bytes.insert(all.bytes.end(), c.bytes.begin(), c.bytes.end());
  }
  MB_CHECK(!all.bytes.empty(), path, ": no data (the file is empty)");
  all.describe = cat(path, " (", with_commas(int64_t(all.bytes.size())), " bytes",
                     files.size() > 1 ? cat(" in ", files.size(), " files") : std::string(),
                     all.record ? cat(", records of ", all.record) : std::string(), ")");
  return all;
}

std::string shipped_file(const std::string& relative) {
#ifdef MB_SOURCE_DATA
  const std::string in_source = std::string(MB_SOURCE_DATA) + "/" + relative;
#else
  const std::string in_source = relative;
#endif
  std::error_code ec;
  if (fs::exists(in_source, ec)) return in_source;
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&shipped_file), &self) && self.dli_fname) {
    const fs::path installed = fs::path(self.dli_fname).parent_path() / ".." / "share" / "megabyte" / relative;
    if (fs::exists(installed, ec)) return fs::weakly_canonical(installed, ec).string();
  }
  return in_source;  // missing everywhere: the error will name the source tree's path
}

void apply_scan(Corpus& c, Scan scan, int64_t patch) {
  if (scan == Scan::raster) return;
  MB_CHECK(c.image.width > 0, c.describe, ": --scan patch needs image data (idx images or PPM)");
  patch_scan_all(c.bytes, c.image, patch);
  c.describe += ", patch-scan order";
}

Split split_corpus(const Corpus& c, double val_fraction) {
  MB_CHECK(val_fraction >= 0 && val_fraction < 1, "--val-fraction must be in [0, 1), got ", val_fraction);
  const int64_t n = int64_t(c.bytes.size());
  int64_t val = int64_t(std::llround(double(n) * val_fraction));
  if (c.record > 0) val = (val + c.record - 1) / c.record * c.record;
  return {n - std::min(val, n), n};
}

std::vector<int64_t> window_offsets(int64_t begin, int64_t end, int64_t B, int64_t T, uint64_t seed,
                                    uint64_t counter, int64_t record) {
  const int64_t span = end - begin;
  MB_CHECK(span >= T, "data: ", span, " bytes are fewer than one window of ", T, " bytes");
  const int64_t step = record > 0 ? record : 1;
  const int64_t choices = (span - T) / step + 1;
  std::vector<int64_t> at(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    const double u = philox_uniform(seed, counter + uint64_t(i));
    at[size_t(i)] = begin + std::min(choices - 1, int64_t(u * double(choices))) * step;
  }
  return at;
}

Tensor sample_windows(const std::vector<uint8_t>& data, int64_t begin, int64_t end, int64_t B,
                      int64_t T, uint64_t seed, uint64_t counter, int64_t record) {
  const std::vector<int64_t> at = window_offsets(begin, end, B, T, seed, counter, record);
  Tensor x = Tensor::empty({B, T}, DType::U8);
  for (int64_t i = 0; i < B; ++i)
    std::memcpy(x.data<uint8_t>() + i * T, data.data() + at[size_t(i)], size_t(T));
  return x;
}

Tensor window_at(const std::vector<uint8_t>& data, int64_t begin, int64_t T) {
  Tensor x = Tensor::empty({1, T}, DType::U8);
  std::memcpy(x.data<uint8_t>(), data.data() + begin, size_t(T));
  return x;
}

}  // namespace mb
