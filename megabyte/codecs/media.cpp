#include "megabyte/codecs/media.h"

#ifdef MB_HAVE_ZLIB
#include <zlib.h>
#endif

#include <cmath>
#include <cstdio>

#include "nn/safetensors.h"
#include "tensor/error.h"

namespace mb {

ImageShape image_shape_from_string(const std::string& s) {
  ImageShape img;
  long long w = 0, h = 0, c = 1;
  char tail = 0;
  const int n = std::sscanf(s.c_str(), "%lldx%lldx%lld%c", &w, &h, &c, &tail);
  MB_CHECK(n == 2 || n == 3, "image shape '", s, "' must be WIDTHxHEIGHT or WIDTHxHEIGHTx3");
  img.width = w;
  img.height = h;
  img.channels = c;
  img.check(cat("image shape '", s, "'"));
  return img;
}

void ImageShape::check(const std::string& what) const {
  constexpr int64_t kMaxSide = int64_t(1) << 16, kMaxBytes = int64_t(1) << 31;
  MB_CHECK(width >= 1 && width <= kMaxSide && height >= 1 && height <= kMaxSide, what, ": width and height must be in [1, ",
           kMaxSide, "], got ", width, "x", height);
  MB_CHECK(channels == 1 || channels == 3, what, ": channels must be 1 or 3, got ", channels);
  MB_CHECK(bytes() <= kMaxBytes, what, ": ", width, "x", height, "x", channels, " is more than 2^31 bytes");
}

namespace {

// side s of a patch's tile, checked
int64_t tile_side(const ImageShape& img, int64_t patch) {
  const int64_t px = patch / img.channels, s = int64_t(std::llround(std::sqrt(double(px))));
  MB_CHECK(patch % img.channels == 0 && s * s == px, "patch scan: P = ", patch, " is not ", img.channels,
           " x a square number of pixels");
  MB_CHECK(img.width % s == 0 && img.height % s == 0, "patch scan: tiles of ", s, "x", s, " do not divide the ",
           img.width, "x", img.height, " image");
  return s;
}

// Calls f(raster index, scan index) for every byte of one image.
template <class F> void scan_pairs(const ImageShape& img, int64_t patch, F f) {
  const int64_t s = tile_side(img, patch), C = img.channels, tiles_x = img.width / s;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t tile = (y / s) * tiles_x + x / s, inside = ((y % s) * s + x % s) * C + c;
        f((y * img.width + x) * C + c, tile * patch + inside);
      }
}

void check_size(const std::vector<uint8_t>& v, const ImageShape& img) {
  MB_CHECK(int64_t(v.size()) == img.bytes(), "image: ", v.size(), " bytes for a ", img.width, "x", img.height, "x",
           img.channels, " image of ", img.bytes());
}

}  // namespace

std::vector<uint8_t> to_patch_scan(const std::vector<uint8_t>& raster, const ImageShape& img, int64_t patch) {
  check_size(raster, img);
  std::vector<uint8_t> out(raster.size());
  scan_pairs(img, patch, [&](int64_t r, int64_t s) { out[size_t(s)] = raster[size_t(r)]; });
  return out;
}

std::vector<uint8_t> from_patch_scan(const std::vector<uint8_t>& scanned, const ImageShape& img, int64_t patch) {
  check_size(scanned, img);
  std::vector<uint8_t> out(scanned.size());
  scan_pairs(img, patch, [&](int64_t r, int64_t s) { out[size_t(r)] = scanned[size_t(s)]; });
  return out;
}

void patch_scan_all(std::vector<uint8_t>& images, const ImageShape& img, int64_t patch) {
  MB_CHECK(img.bytes() > 0 && int64_t(images.size()) % img.bytes() == 0, "patch scan: ", images.size(),
           " bytes are not whole ", img.bytes(), "-byte images");
  for (size_t at = 0; at < images.size(); at += size_t(img.bytes())) {
    const std::vector<uint8_t> one(images.begin() + std::ptrdiff_t(at), images.begin() + std::ptrdiff_t(at) + img.bytes());
    const std::vector<uint8_t> s = to_patch_scan(one, img, patch);
    std::copy(s.begin(), s.end(), images.begin() + std::ptrdiff_t(at));
  }
}

namespace {

#ifdef MB_HAVE_ZLIB
void put32(std::string& s, uint32_t v) {  // big-endian, as PNG wants
  for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, uint32_t(data.size()));
  const std::string td = std::string(type, 4) + data;
  out += td;
  put32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()))));
}

std::string png(const std::vector<uint8_t>& raster, const ImageShape& img) {
  std::string rows;  // each row: filter byte 0 (none), then the pixels
  const int64_t stride = img.width * img.channels;
  for (int64_t y = 0; y < img.height; ++y) {
    rows.push_back('\0');
    rows.append(reinterpret_cast<const char*>(raster.data()) + y * stride, size_t(stride));
  }
  uLongf zlen = compressBound(uLong(rows.size()));
  std::string z(zlen, '\0');
  MB_CHECK(compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(rows.data()),
                     uLong(rows.size()), 9) == Z_OK, "png: compression failed");
  z.resize(zlen);
  std::string ihdr;
  put32(ihdr, uint32_t(img.width));
  put32(ihdr, uint32_t(img.height));
  ihdr += std::string{8, char(img.channels == 3 ? 2 : 0), 0, 0, 0};  // 8-bit, gray or RGB
  std::string out = "\x89PNG\r\n\x1a\n";
  png_chunk(out, "IHDR", ihdr);
  png_chunk(out, "IDAT", z);
  png_chunk(out, "IEND", "");
  return out;
}
#else
std::string png(const std::vector<uint8_t>&, const ImageShape&) {
  throw Error("this build has no zlib, which PNG needs: write a .pgm or .ppm instead");
}
#endif

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

void write_image(const std::string& path, const std::vector<uint8_t>& raster, const ImageShape& img) {
  check_size(raster, img);
  if (ends_with(path, ".png")) {
    nn::write_file_atomic(path, png(raster, img));
    return;
  }
  const bool gray = img.channels == 1;
  MB_CHECK((gray && ends_with(path, ".pgm")) || (!gray && ends_with(path, ".ppm")), path,
           ": write .png, or .pgm for gray and .ppm for RGB images");
  const std::string header = cat(gray ? "P5" : "P6", "\n", img.width, " ", img.height, "\n255\n");
  nn::write_file_atomic(path, header + std::string(raster.begin(), raster.end()));
}

int16_t mulaw_to_pcm16(uint8_t u) {
  u = uint8_t(~u);
  const int sign = u & 0x80, exponent = (u >> 4) & 0x07, mantissa = u & 0x0f;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return int16_t(sign ? -magnitude : magnitude);
}

void write_wav(const std::string& path, const std::vector<uint8_t>& mulaw, int rate) {
  std::string d;
  auto le = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) d.push_back(char((v >> (8 * i)) & 0xff));
  };
  const uint32_t data_bytes = uint32_t(mulaw.size() * 2);
  d += "RIFF";
  le(36 + data_bytes, 4);
  d += "WAVEfmt ";
  le(16, 4);                     // fmt chunk size
  le(1, 2);                      // PCM
  le(1, 2);                      // mono
  le(uint32_t(rate), 4);
  le(uint32_t(rate) * 2, 4);     // bytes per second
  le(2, 2);                      // bytes per frame
  le(16, 2);                     // bits per sample
  d += "data";
  le(data_bytes, 4);
  for (uint8_t u : mulaw) le(uint16_t(mulaw_to_pcm16(u)), 2);
  nn::write_file_atomic(path, d);
}

}  // namespace mb
