// two_level: runs the paper-style forward of examples/two_level.h and Megabyte::forward on the
// same bytes with the same weights, and says how far apart their logits are (exit 1 unless
// they agree to float rounding). With the zoo model and Shakespeare by default.
//   build/examples/two_level [CKPT] [TEXT]
#include <cstdio>
#include <string>

#include "examples/two_level.h"
#include "megabyte/checkpoint.h"
#include "megabyte/data.h"
#include "nn/safetensors.h"

using namespace mb;

int main(int argc, char** argv) {
  try {
    const std::string ckpt = argc > 1 ? argv[1] : shipped_file("megabyte/zoo/tiny_shakespeare.safetensors");
    const std::string text = argc > 2 ? argv[2] : shipped_file("data/tinyshakespeare.txt");
    const std::unique_ptr<ByteModel> model = load_model(ckpt);
    const auto* m = dynamic_cast<const Megabyte*>(model.get());
    const Config& c = model->config();
    MB_CHECK(m && c.mids.empty() && !c.conv && c.cross_patch == 0 && c.head == Head::tied,
             ckpt, ": two_level.h writes the paper's plain two-level model (tied head, no conv encoder, ",
             "no cross-patch attention, no middle levels); this is ", c.summary());
    // B = 4 windows of T bytes from the start of the text
    const int64_t B = 4, T = c.seq;
    const std::string bytes = nn::read_file(text, uint64_t(B * T));
    MB_CHECK(int64_t(bytes.size()) >= B * T, text, ": ", bytes.size(), " bytes, fewer than the ", B * T, " needed");
    const Tensor x = Tensor::from_vector(std::vector<int64_t>(bytes.begin(), bytes.begin() + B * T), {B, T});
    NoGradGuard no_grad;
    const Tensor ours = example::two_level_forward(*m, x), model_logits = model->forward(x);
    const double diff = max(abs(sub(ours, model_logits))).item(), scale = max(abs(model_logits)).item();
    std::printf("%s\nB = %lld windows of T = %lld bytes: P = %lld, K = %lld patches, B·K = %lld local sequences\n",
                c.summary().c_str(), static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(c.patch),
                static_cast<long long>(T / c.patch), static_cast<long long>(B * T / c.patch));
    std::printf("largest |two_level_forward - Megabyte::forward| = %.3g (logits up to %.3g)\n", diff, scale);
    const bool ok = diff <= 1e-5 * scale;
    std::printf("%s\n", ok ? "the same model" : "DIFFERENT");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "two_level: %s\n", e.what());
    return 1;
  }
}
