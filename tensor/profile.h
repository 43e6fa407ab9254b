// A tiny op profiler for people tuning kernels: with MB_PROFILE=1 in the environment, the
// time spent in every op (forward) and in every op's backward rule is accumulated, exclusive
// of nested ops, and printed as a table when the program exits. Off, a scope costs one branch.
#pragma once
#include <chrono>

namespace mb {

bool profiling();  // MB_PROFILE is set to something other than 0

class ProfileScope {
 public:
  explicit ProfileScope(const char* name) : name_(profiling() ? name : nullptr) {
    if (name_) enter();
  }
  ~ProfileScope() {
    if (name_) leave();
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  void enter();
  void leave();
  const char* name_;
  std::chrono::steady_clock::time_point start_;
  double child_ = 0;  // seconds spent in nested scopes
  ProfileScope* parent_ = nullptr;
};

}  // namespace mb
