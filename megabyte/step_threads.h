// StepThreads: whether decoding's one-position steps run on one thread or may fork, decided by
// measuring (megabyte/generate.cpp keeps one per kind of step).
#pragma once
#include <algorithm>
#include <cstdint>

namespace mb {

// Whether a one-position step runs on the calling thread alone (a SerialScope) or may fork:
// on a quiet machine threads pay, but beside another busy process a thread may wait for a
// core. Results are the same either way, so it measures: a trial of steps each way (the
// threaded one spanning several of the scheduler's time slices: its steps beside a neighbour
// take 25 µs or 40 ms by turns), then the faster per step for kRun seconds, then again. A
// threaded trial at 4x the serial one's time is cut short, and while threads keep losing the
// runs between trials grow to kMaxRun.
class StepThreads {
 public:
  bool serial() const { return phase_ == 0 || (phase_ == 2 && serial_wins_); }
  void record(double seconds) {
    Span& s = spans_[phase_];
    s.seconds += seconds;
    ++s.steps;
    if (phase_ == 1 && s.seconds > 4 * s.steps * spans_[0].seconds / spans_[0].steps) {  // a lost cause
      phase_ = 2;
      serial_wins_ = true;
    } else if (phase_ < 2 && s.steps >= 4 && s.seconds >= kTrial[phase_]) {
      if (++phase_ == 2) serial_wins_ = spans_[0].seconds / spans_[0].steps <= spans_[1].seconds / spans_[1].steps;
    } else if (phase_ == 2 && s.seconds >= run_) {  // again, after longer while threads keep losing
      const double run = serial_wins_ ? std::min(2 * run_, kMaxRun) : kRun;
      *this = StepThreads{};
      run_ = run;
    }
  }

 private:
  static constexpr double kTrial[2] = {0.005, 0.02}, kRun = 0.5, kMaxRun = 8;  // seconds
  struct Span {
    int64_t steps = 0;
    double seconds = 0;
  };
  int phase_ = 0;  // serial trial, threaded trial, run
  Span spans_[3];
  bool serial_wins_ = true;
  double run_ = kRun;
};

}  // namespace mb
