// Images and audio: the patch-scan order, the image and WAV writers, mu-law decoding.
#ifdef MB_HAVE_ZLIB
#include <zlib.h>
#endif

#include <filesystem>

#include "helpers.h"
#include "megabyte/data.h"
#include "megabyte/codecs/media.h"
#include "nn/safetensors.h"

using namespace mb;
using namespace mb::test;
namespace fs = std::filesystem;

namespace {
std::string temp(const std::string& name) {
  return (fs::temp_directory_path() / ("mb_test_" + std::to_string(::getpid()) + "_" + name)).string();
}
// big-endian u32 at byte `at` (PNG chunk fields); unused where there is no zlib to write PNGs
[[maybe_unused]] uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 |
         uint32_t(uint8_t(s[at + 3]));
}
}  // namespace

TEST_CASE("patch scan: 2x2 tiles of a 4x4 image, tiles and pixels in raster order") {
  std::vector<uint8_t> raster(16);
  for (int i = 0; i < 16; ++i) raster[size_t(i)] = uint8_t(i);  // pixel (y, x) = 4y + x
  const ImageShape img{4, 4, 1};
  const std::vector<uint8_t> scan = to_patch_scan(raster, img, 4);
  CHECK(scan == std::vector<uint8_t>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15});
  CHECK(from_patch_scan(scan, img, 4) == raster);
  CHECK(to_patch_scan(raster, img, 1) == raster);  // 1x1 tiles: raster order
  // RGB: P = 12 is 2x2 pixels x 3 channels, channels innermost
  std::vector<uint8_t> rgb(4 * 2 * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t(i);
  const std::vector<uint8_t> s = to_patch_scan(rgb, {4, 2, 3}, 12);
  CHECK(std::vector<uint8_t>(s.begin(), s.begin() + 12) == std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17});
  CHECK(from_patch_scan(s, {4, 2, 3}, 12) == rgb);
  CHECK(error_of([&] { (void)to_patch_scan(raster, img, 8); }).find("not 1 x a square") != std::string::npos);
  CHECK(error_of([&] { (void)to_patch_scan(std::vector<uint8_t>(36), {6, 6, 1}, 16); }).find("do not divide") != std::string::npos);
}

TEST_CASE("patch scan of a whole idx corpus, and refused for text") {
  std::string idx = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4};
  for (int i = 0; i < 32; ++i) idx.push_back(char(i));
  const std::string path = temp("scan-idx");
  nn::write_file_atomic(path, idx);
  Corpus c = Corpus::load(path);
  CHECK(c.image.width == 4);
  CHECK(c.image.height == 4);
  apply_scan(c, Scan::patch, 4);
  CHECK(std::vector<uint8_t>(c.bytes.begin() + 16, c.bytes.begin() + 20) == std::vector<uint8_t>{16, 17, 20, 21});
  fs::remove(path);
  Corpus text;
  text.bytes = {1, 2, 3};
  text.describe = "notes.txt";
  CHECK(error_of([&] { apply_scan(text, Scan::patch, 4); }).find("notes.txt: --scan patch needs image data") != std::string::npos);
  CHECK(error_of([] { (void)from_name<Scan>("--scan", "zigzag"); }).find("--scan must be raster or patch, got 'zigzag'") != std::string::npos);
}

TEST_CASE("PGM and PNG files hold the pixels") {
  std::vector<uint8_t> px(3 * 2);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(40 * i);
  const std::string pgm = temp("img.pgm"), png = temp("img.png");
  write_image(pgm, px, {3, 2, 1});
  CHECK(nn::read_file(pgm) == std::string("P5\n3 2\n255\n") + std::string(px.begin(), px.end()));
#ifndef MB_HAVE_ZLIB
  CHECK(error_of([&] { write_image(png, px, {3, 2, 1}); }).find("no zlib, which PNG needs") != std::string::npos);
#else
  write_image(png, px, {3, 2, 1});
  const std::string f = nn::read_file(png);
  REQUIRE(f.size() > 33);
  CHECK(f.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  CHECK(f.substr(12, 4) == "IHDR");
  CHECK(be32(f, 16) == 3);
  CHECK(be32(f, 20) == 2);
  const size_t idat = f.find("IDAT");
  REQUIRE(idat != std::string::npos);
  const uint32_t len = be32(f, idat - 4);
  std::string raw(8, '\0');  // two rows of (filter byte + 3 pixels)
  uLongf n = raw.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &n, reinterpret_cast<const Bytef*>(f.data() + idat + 4), len) == Z_OK);
  CHECK(raw == std::string{0, 0, 40, 80, 0, char(120), char(160), char(200)});
#endif
  CHECK(error_of([&] { write_image(temp("img.ppm"), px, {3, 2, 1}); }).find(".pgm for gray") != std::string::npos);
  CHECK(error_of([&] { (void)image_shape_from_string("28by28"); }).find("WIDTHxHEIGHT") != std::string::npos);
  CHECK(image_shape_from_string("150x103x3").bytes() == 150 * 103 * 3);
  fs::remove(pgm);
  fs::remove(png);
}

TEST_CASE("mu-law decoding and the WAV file") {
  CHECK(mulaw_to_pcm16(0xFF) == 0);
  CHECK(mulaw_to_pcm16(0x7F) == 0);
  CHECK(mulaw_to_pcm16(0x80) == 32124);
  CHECK(mulaw_to_pcm16(0x00) == -32124);
  for (int u = 0x80; u < 0xFF; ++u) CHECK(mulaw_to_pcm16(uint8_t(u)) > mulaw_to_pcm16(uint8_t(u + 1)));  // monotone
  const std::string wav = temp("a.wav");
  write_wav(wav, {0xFF, 0x80, 0x00}, 8000);
  const std::string f = nn::read_file(wav);
  CHECK(f.size() == 44 + 6);
  CHECK(f.substr(0, 4) == "RIFF");
  CHECK(f.substr(8, 8) == "WAVEfmt ");
  CHECK(uint8_t(f[24]) + 256 * uint8_t(f[25]) == 8000 % 65536);
  CHECK(int16_t(uint8_t(f[46]) | uint8_t(f[47]) << 8) == 32124);
  fs::remove(wav);
}
