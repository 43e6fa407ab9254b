// Benchmark timing: the median of repeated runs after a warm-up, and a JSON line per result so
// scripts can collect them. Benchmarks are not tests: they assert nothing.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace mb::bench {

// Median seconds of `reps` calls of f after `warmup` untimed calls.
template <class F> double median_seconds(F&& f, int reps = 7, int warmup = 2) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// {"bench": name, "case": what, "threads": n, "ms": .., "<unit>": value}
inline void report(const std::string& bench, const std::string& what, int threads, double sec,
                   const char* unit, double value) {
  std::printf("%-10s %-34s threads %d  %9.3f ms  %8.2f %s\n", bench.c_str(), what.c_str(),
              threads, sec * 1e3, value, unit);
  std::fprintf(stderr, "{\"bench\":\"%s\",\"case\":\"%s\",\"threads\":%d,\"ms\":%.4f,\"%s\":%.3f}\n",
               bench.c_str(), what.c_str(), threads, sec * 1e3, unit, value);
}

}  // namespace mb::bench
