#include "megabyte/patcher.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace mb {

PatchCutter::PatchCutter(int64_t max_len) : max_len_(max_len) {
  MB_CHECK(max_len >= 1, "patcher: the longest patch must be >= 1 byte, got ", max_len);
}

bool PatchCutter::start_at(int64_t t, bool cut) {
  if (t > 0 && !cut && t - last_ < max_len_) return false;
  last_ = t;
  return true;
}

namespace {
// starts from a per-position rule `cut(t)` (asked for t >= 1 only)
template <class Cut> std::vector<int64_t> patches_by(int64_t n, int64_t max_len, Cut cut) {
  PatchCutter cutter(max_len);
  std::vector<int64_t> starts;
  for (int64_t t = 0; t < n; ++t)
    if (cutter.start_at(t, t > 0 && cut(t))) starts.push_back(t);
  return starts;
}
}  // namespace

std::vector<int64_t> fixed_patches(int64_t n, int64_t P) {
  MB_CHECK(P >= 1, "patcher: the patch size must be >= 1, got ", P);
  return patches_by(n, P, [](int64_t) { return false; });
}

bool space_like(uint8_t b) {
  const bool letter_or_digit = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
  return !letter_or_digit && (b & 0xc0) != 0x80;
}

// a patch starts at t when byte t − 1 is space-like and byte t − 2 is not (or t − 1 = 0)
bool space_cut(const uint8_t* bytes, int64_t t) { return space_like(bytes[t - 1]) && (t == 1 || !space_like(bytes[t - 2])); }

std::vector<int64_t> space_patches(const std::vector<uint8_t>& bytes, int64_t max_len) {
  return patches_by(int64_t(bytes.size()), max_len, [&](int64_t t) { return space_cut(bytes.data(), t); });
}

bool entropy_cut(const double* H, int64_t t, double theta, EntropyRule rule) {
  return rule == EntropyRule::above ? H[t] > theta : H[t] - H[t - 1] > theta;
}

std::vector<int64_t> entropy_patches(const std::vector<double>& H, double theta, EntropyRule rule, int64_t max_len) {
  return patches_by(int64_t(H.size()), max_len, [&](int64_t t) { return entropy_cut(H.data(), t, theta, rule); });
}

double entropy_threshold(const std::vector<double>& H, EntropyRule rule, double mean_len, int64_t max_len) {
  MB_CHECK(mean_len >= 1, "patcher: the mean patch length to aim at must be >= 1, got ", mean_len);
  MB_CHECK(H.size() >= 2, "patcher: too few bytes (", H.size(), ") to choose an entropy threshold");
  // the candidate thresholds: each value the rule compares (a patch starts where it is exceeded)
  std::vector<double> v;
  for (size_t t = 1; t < H.size(); ++t) v.push_back(rule == EntropyRule::above ? H[t] : H[t] - H[t - 1]);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  // a larger theta cuts less often: the mean length grows with theta, so a binary search finds
  // the first theta at or above the target, and the one before it is the other candidate
  const int64_t n = int64_t(H.size());
  auto mean_at = [&](size_t i) { return mean_patch_length(entropy_patches(H, v[i], rule, max_len), n); };
  size_t lo = 0, hi = v.size() - 1;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (mean_at(mid) < mean_len) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && std::abs(mean_at(lo - 1) - mean_len) <= std::abs(mean_at(lo) - mean_len)) --lo;
  // halfway to the next value compared: the same starts here, and none of these values sits on
  // the threshold, where the rounding of another pass over the same bytes could move a start
  // (other bytes can still come close: a start there may differ between passes)
  return lo + 1 < v.size() ? (v[lo] + v[lo + 1]) / 2 : v[lo];
}

double mean_patch_length(const std::vector<int64_t>& starts, int64_t n) {
  return starts.empty() ? 0 : double(n) / double(starts.size());
}

}  // namespace mb
