#include "tensor/profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace mb {

namespace {

struct Totals {
  std::map<std::string, std::pair<double, long>> by_name;  // seconds (exclusive), calls
  ~Totals() {
    if (by_name.empty()) return;
    std::vector<std::pair<std::string, std::pair<double, long>>> rows(by_name.begin(), by_name.end());
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
    double total = 0;
    for (auto& r : rows) total += r.second.first;
    std::fprintf(stderr, "\nMB_PROFILE: time inside ops (exclusive of nested ops), %.1f ms in all\n", total * 1e3);
    std::fprintf(stderr, "  %-28s %10s %7s %8s\n", "op", "ms", "%", "calls");
    for (auto& [name, v] : rows)
      std::fprintf(stderr, "  %-28s %10.1f %6.1f%% %8ld\n", name.c_str(), v.first * 1e3, 100 * v.first / total, v.second);
  }
};

Totals& totals() {
  static Totals t;
  return t;
}
thread_local ProfileScope* g_current = nullptr;

}  // namespace

bool profiling() {
  static const bool on = [] {
    const char* v = std::getenv("MB_PROFILE");
    return v && std::string(v) != "0";
  }();
  return on;
}

void ProfileScope::enter() {
  parent_ = g_current;
  g_current = this;
  start_ = std::chrono::steady_clock::now();
}

void ProfileScope::leave() {
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  g_current = parent_;
  if (parent_) parent_->child_ += t;
  auto& e = totals().by_name[name_];
  e.first += t - child_;
  e.second += 1;
}

}  // namespace mb
