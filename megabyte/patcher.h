// Where patches start. MEGABYTE cuts every P bytes whatever they are; two later answers cut
// where the text suggests: SpaceByte (Slagle 2024) after "space-like" bytes, the Byte Latent
// Transformer (Pagnoni et al. 2024) where a small byte model finds the next byte hard to
// predict. Pure functions: bytes (or per-byte entropies) in, the positions at which patches
// start out: 0 first, increasing, every patch at most max_len bytes long.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/names.h"

namespace mb {

enum class PatchRule { fixed, space, entropy };
template <> struct EnumNames<PatchRule> {
  static constexpr std::pair<PatchRule, const char*> table[] = {
      {PatchRule::fixed, "fixed"}, {PatchRule::space, "space"}, {PatchRule::entropy, "entropy"}};
};

// The rule every patcher shares, one position at a time (positions 0, 1, 2, ... in order): t
// starts a patch when the patcher cuts there, or when the current patch has reached max_len
// bytes; position 0 always starts one. The batch functions below and the cached decoder
// (megabyte/generate.cpp), which learns one position at a time, both run it.
class PatchCutter {
 public:
  explicit PatchCutter(int64_t max_len);
  bool start_at(int64_t t, bool cut);  // whether t starts a patch
 private:
  int64_t max_len_, last_ = 0;
};

// Every P bytes: 0, P, 2P, ... below n.
std::vector<int64_t> fixed_patches(int64_t n, int64_t P);

// SpaceByte's bytes that end a word: anything but an ASCII letter or digit or a UTF-8
// continuation byte (10xxxxxx); so spaces, punctuation, newlines and the first byte of a
// multi-byte character.
bool space_like(uint8_t b);
// SpaceByte's rule: a patch starts after every space-like byte that follows a byte that is not
// space-like (a run of spaces or punctuation ends one patch, not several); and wherever the
// current patch reaches max_len bytes.
std::vector<int64_t> space_patches(const std::vector<uint8_t>& bytes, int64_t max_len);
// The cut of that rule at t >= 1, from bytes[t − 1] and bytes[t − 2] (bytes holds at least t).
bool space_cut(const uint8_t* bytes, int64_t t);

// The Byte Latent Transformer's rules, over H[t], the entropy (bits) of a small model's
// prediction of byte t from the bytes before it: a patch starts at t when H[t] > theta (above),
// or when H[t] − H[t − 1] > theta (rise: the model becomes less sure); and at max_len.
enum class EntropyRule { above, rise };
template <> struct EnumNames<EntropyRule> {
  static constexpr std::pair<EntropyRule, const char*> table[] = {{EntropyRule::above, "above"}, {EntropyRule::rise, "rise"}};
};
std::vector<int64_t> entropy_patches(const std::vector<double>& H, double theta, EntropyRule rule, int64_t max_len);
// The cut of that rule at t >= 1, from H[t] and H[t − 1].
bool entropy_cut(const double* H, int64_t t, double theta, EntropyRule rule);
// The theta whose patches come closest to `mean_len` bytes long on average (searched over the
// values the rule compares, so the result is exact for this H); halfway between two of those
// values, so none of them lies on it.
double entropy_threshold(const std::vector<double>& H, EntropyRule rule, double mean_len, int64_t max_len);

// n / (number of patches): the mean patch length of `starts` over n bytes.
double mean_patch_length(const std::vector<int64_t>& starts, int64_t n);

}  // namespace mb
