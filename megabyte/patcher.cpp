#include "megabyte/patcher.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace mb {

namespace {
void check_max_len(int64_t max_len) { MB_CHECK(max_len >= 1, "patcher: the longest patch must be >= 1 byte, got ", max_len); }

// starts from a per-position rule `cut(t)` (t >= 1), with a cut forced at max_len
template <class Cut> std::vector<int64_t> patches_by(int64_t n, int64_t max_len, Cut cut) {
  check_max_len(max_len);
  std::vector<int64_t> starts;
  if (n > 0) starts.push_back(0);
  for (int64_t t = 1; t < n; ++t)
    if (cut(t) || t - starts.back() >= max_len) starts.push_back(t);
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

std::vector<int64_t> space_patches(const std::vector<uint8_t>& bytes, int64_t max_len) {
  // a patch starts at t when byte t − 1 is space-like and byte t − 2 is not (or t − 1 = 0)
  return patches_by(int64_t(bytes.size()), max_len, [&](int64_t t) {
    return space_like(bytes[size_t(t - 1)]) && (t == 1 || !space_like(bytes[size_t(t - 2)]));
  });
}

std::vector<int64_t> entropy_patches(const std::vector<double>& H, double theta, EntropyRule rule, int64_t max_len) {
  return patches_by(int64_t(H.size()), max_len, [&](int64_t t) {
    return rule == EntropyRule::above ? H[size_t(t)] > theta : H[size_t(t)] - H[size_t(t - 1)] > theta;
  });
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
  return v[lo];
}

double mean_patch_length(const std::vector<int64_t>& starts, int64_t n) {
  return starts.empty() ? 0 : double(n) / double(starts.size());
}

}  // namespace mb
