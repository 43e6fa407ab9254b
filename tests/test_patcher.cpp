// Patchers (megabyte/patcher.h): MEGABYTE's fixed patches, SpaceByte's space-like boundaries,
// the Byte Latent Transformer's entropy boundaries, checked against boundaries found by hand;
// the entropy threshold search against every candidate; the entropies a model gives.
#include <cmath>
#include <string>

#include "helpers.h"
#include "megabyte/evaluate.h"
#include "megabyte/model.h"
#include "megabyte/patcher.h"
#include "tensor/philox.h"

using namespace mb;
using namespace mb::test;

namespace {
std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("fixed patches start every P bytes") {
  CHECK(fixed_patches(10, 4) == std::vector<int64_t>{0, 4, 8});
  CHECK(fixed_patches(8, 4) == std::vector<int64_t>{0, 4});
  CHECK(fixed_patches(0, 4).empty());
  CHECK(error_of([] { (void)fixed_patches(8, 0); }).find("patch size must be >= 1") != std::string::npos);
}

TEST_CASE("space-like bytes: not a letter, digit or UTF-8 continuation byte") {
  for (char c : std::string(" \n\t.,;:!?'\"-()")) CHECK(space_like(uint8_t(c)));
  for (char c : std::string("azAZ09q")) CHECK(!space_like(uint8_t(c)));
  CHECK(space_like(0xc3));   // the lead byte of a two-byte character ("é" is c3 a9)
  CHECK(!space_like(0xa9));  // its continuation byte
}

TEST_CASE("space patches start after a space-like byte that follows one that is not, and at the longest length") {
  // T o _ b e , _ o r _  n  o  t  .  ↵  ↵  o  k
  // 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
  CHECK(space_patches(bytes_of("To be, or not.\n\nok"), 16) == std::vector<int64_t>{0, 3, 6, 10, 14});
  CHECK(space_patches(bytes_of("aaaaaaaaaa"), 4) == std::vector<int64_t>{0, 4, 8});
  CHECK(space_patches(bytes_of("ab cd"), 1) == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(space_patches({}, 4).empty());
  // "é" is c3 a9: the lead byte is space-like, so the rule as written ends a patch inside the
  // character (after c3), and the space after it, which follows a non-space-like a9, ends another
  CHECK(space_patches(bytes_of("caf\xc3\xa9 ok"), 16) == std::vector<int64_t>{0, 4, 6});
}

TEST_CASE("entropy patches: above a threshold, or rising by more than it") {
  const std::vector<double> H = {0, 6, 7, 1, 2};
  CHECK(entropy_patches(H, 4, EntropyRule::above, 16) == std::vector<int64_t>{0, 1, 2});
  CHECK(entropy_patches(H, 4, EntropyRule::rise, 16) == std::vector<int64_t>{0, 1});
  CHECK(entropy_patches(H, 10, EntropyRule::above, 2) == std::vector<int64_t>{0, 2, 4});  // only the longest length cuts
  CHECK(mean_patch_length({0, 1, 2}, 5) == doctest::Approx(5.0 / 3));
}

TEST_CASE("the entropy threshold gives the mean patch length closest to the target") {
  std::vector<double> H(600);
  for (size_t i = 0; i < H.size(); ++i) H[i] = 8 * philox_uniform(11, i);
  for (EntropyRule rule : {EntropyRule::above, EntropyRule::rise})
    for (double target : {1.5, 3.0, 6.0}) {
      const double theta = entropy_threshold(H, rule, target, 32);
      const double got = std::abs(mean_patch_length(entropy_patches(H, theta, rule, 32), 600) - target);
      for (size_t t = 1; t < H.size(); ++t) {  // no candidate does better, and none lies on theta
        const double candidate = rule == EntropyRule::above ? H[t] : H[t] - H[t - 1];
        CHECK(got <= std::abs(mean_patch_length(entropy_patches(H, candidate, rule, 32), 600) - target) + 1e-12);
        CHECK(std::abs(candidate - theta) > 1e-6);
      }
    }
}

TEST_CASE("next-byte entropies: 8 bits from a model that knows nothing, and byte t's never depends on byte t") {
  Config c;
  c.seq = 16, c.patch = 4, c.gdim = 16, c.gheads = 2, c.glayers = 1, c.ldim = 8, c.lheads = 2, c.llayers = 1;
  Megabyte blank(c);
  {
    NoGradGuard no_grad;
    for (Tensor* p : blank.parameters()) fill_(*p, 0.0);  // logits all zero: the uniform distribution
  }
  std::vector<uint8_t> text = bytes_of("To be, or not to be, that is the question.");
  for (double h : next_byte_entropy(blank, text)) CHECK(h == doctest::Approx(8.0).epsilon(1e-12));
  c.init_std = 0.5;
  Megabyte m(c);
  m.init_parameters(3);
  const std::vector<double> H = next_byte_entropy(m, text);
  REQUIRE(H.size() == text.size());
  for (double h : H) CHECK((h >= 0 && h <= 8 + 1e-9));
  text[9] ^= 0x20;  // byte 9 changed: the entropies up to 9 stay, later ones may move
  const std::vector<double> H2 = next_byte_entropy(m, text);
  for (size_t t = 0; t <= 9; ++t) CHECK(H2[t] == H[t]);
}
