// Crafted and absurd input, each refused with a message that names it: sizes that would wrap,
// unbounded reads, non-finite or relabelled weights. (Training and resume: test_train.cpp;
// the command line: cli.sh.)
#ifdef MB_HAVE_ZLIB
#include <zlib.h>
#endif

#include "helpers.h"
#include "megabyte/checkpoint.h"
#include "megabyte/data.h"
#include "megabyte/codecs/media.h"
#include "nn/safetensors.h"

using namespace mb;
using namespace mb::test;

namespace {
// A safetensors file of one tensor with this header entry and `data` bytes of data.
std::string safetensors_with(const std::string& entry, const std::string& data) {
  const std::string json = "{\"x\":" + entry + "}";
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char((uint64_t(json.size()) >> (8 * i)) & 0xff);
  return s + json + data;
}
std::string big_endian(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
}  // namespace

TEST_CASE("sizes that would wrap are refused: shapes, tensors in files, idx, PPM, images") {
  CHECK(error_of([] { (void)Tensor::empty({int64_t(1) << 40, int64_t(1) << 40}); }).find("more than 2^62 elements") !=
        std::string::npos);
  CHECK(error_of([] { (void)Tensor::empty({int64_t(1) << 61}, DType::F64); }).find("more bytes than 2^63") != std::string::npos);
  // 2^59 x 8 i64 is 2^65 bytes: it must not pass as the 0 bytes its offsets give
  CHECK(error_of([] { (void)nn::parse_safetensors(safetensors_with(R"({"dtype":"I64","shape":[576460752303423488,8],"data_offsets":[0,0]})", ""), "f"); })
            .find("is more than 2^64 bytes") != std::string::npos);
  CHECK(error_of([] { (void)nn::parse_safetensors(safetensors_with(R"({"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]})", ""), "f"); })
            .find("is more than 2^64 bytes") != std::string::npos);
  TempDir dir("wrap");
  // idx: four sizes of 2^32 - 1 multiply past 2^63
  nn::write_file_atomic(dir / "huge-idx", std::string("\0\0\x08\x04", 4) + big_endian(0xffffffffu) + big_endian(0xffffffffu) +
                                              big_endian(0xffffffffu) + big_endian(0xffffffffu) + "abc");
  CHECK(error_of([&] { (void)Corpus::load(dir / "huge-idx"); }).find("more than 2^63 bytes") != std::string::npos);
  // PPM: width x height x 3 past 2^64, and a number too long to read
  nn::write_file_atomic(dir / "huge.ppm", "P6\n4294967296 4294967296\n255\nabc");
  CHECK(error_of([&] { (void)Corpus::load(dir / "huge.ppm"); }).find("over 2^31") != std::string::npos);
  nn::write_file_atomic(dir / "wide.ppm", "P6\n100000 2\n255\nabc");
  CHECK(error_of([&] { (void)Corpus::load(dir / "wide.ppm"); }).find("width and height must be in [1, 65536]") != std::string::npos);
  CHECK(error_of([] { (void)image_shape_from_string("4611686018427387905x4"); }).find("width and height must be in") !=
        std::string::npos);
  CHECK(error_of([] { (void)image_shape_from_string("65536x65536x3"); }).find("more than 2^31 bytes") != std::string::npos);
  CHECK(image_shape_from_string("64x32x3").bytes() == 64 * 32 * 3);
}

TEST_CASE("reads are bounded: the header first, no devices, no bombs") {
  CHECK(error_of([] { (void)nn::load_safetensors("/dev/zero"); }).find("/dev/zero: not a regular file") != std::string::npos);
  CHECK(error_of([] { (void)nn::read_file("/dev/zero", 1 << 20); }).find("not a regular file, and longer than 1.0 MiB") !=
        std::string::npos);
#ifdef MB_HAVE_ZLIB
  TempDir dir("bomb");
  // a gzip of 600 MiB of zeros is a few hundred kB; it inflates only up to the cap
  gzFile gz = gzopen((dir / "zeros.gz").c_str(), "wb1");
  const std::string mib(1 << 20, '\0');
  for (int i = 0; i < 600; ++i) gzwrite(gz, mib.data(), unsigned(mib.size()));
  gzclose(gz);
  CHECK(error_of([&] { (void)Corpus::load(dir / "zeros.gz"); }).find("inflates to more than 512.0 MiB") != std::string::npos);
#endif
}

TEST_CASE("non-finite or relabelled weights are refused, naming the parameter") {
  const Config c = megabyte_config(16, 4, 16, 8, 2, 1);
  auto model = make_model(c);
  nn::StateDict sd = model->state_dict();
  nn::StateDict nan = sd;
  nan["local.byte_embed"] = clone(sd.at("local.byte_embed").detach());
  nan["local.byte_embed"].data<float>()[7] = std::nanf("");
  CHECK(error_of([&] { model->load_state_dict(nan); }).find("'local.byte_embed' holds non-finite values") != std::string::npos);
  nn::StateDict relabelled = sd;
  relabelled["global.pad"] = Tensor::zeros(sd.at("global.pad").shape(), DType::I32);
  CHECK(error_of([&] { model->load_state_dict(relabelled); }).find("'global.pad' is i32 in the file but f32") != std::string::npos);
  // and through a checkpoint file written with a NaN in it
  TempDir dir("nan_ckpt");
  {
    NoGradGuard no_grad;
    fill_(narrow(*model->named_parameters()[0].second, 0, 3, 1), std::nan(""));
  }
  save_checkpoint(dir / "nan.safetensors", *model, nullptr, {});
  const std::string err = error_of([&] { (void)load_model(dir / "nan.safetensors"); });
  CHECK(err.find("nan.safetensors") != std::string::npos);
  CHECK(err.find("'global.byte_embed' holds non-finite values") != std::string::npos);
}

TEST_CASE("all_finite finds NaN and both infinities, in any float dtype") {
  for (DType d : {DType::F32, DType::F64, DType::BF16}) {
    INFO(std::string(dtype_name(d)));
    CHECK(all_finite(to(f64({1, -2, 3e30}, {3}), d)));
    for (double bad : {double(NAN), double(INFINITY), -double(INFINITY)}) CHECK(!all_finite(to(f64({1, bad, 3}, {3}), d)));
  }
  CHECK(all_finite(Tensor::zeros({0})));
  CHECK(all_finite(Tensor::arange(0, 5)));
}
