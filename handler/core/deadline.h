// Deadline: when a command must stop issuing work. The kernel fails a
// command back to the initiator once it has been in the ring for the LUN's
// cmd_time_out; whatever the handler issues for it after that lands on data
// the initiator may already have overwritten. The clock is the coarse
// monotonic one: a read costs a few nanoseconds, its ticks (a jiffy) are far
// finer than any command budget.
#pragma once

#include <time.h>

#include <cstdint>

namespace tcmu_switch {

inline uint64_t monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

class Deadline {
 public:
  Deadline() = default;  // none: the command may take as long as it needs
  static Deadline at(uint64_t ms) { return Deadline(ms); }
  static Deadline after(uint64_t start_ms, uint64_t budget_ms) { return Deadline(start_ms + budget_ms); }

  bool none() const { return at_ms_ == 0; }
  bool passed(uint64_t now_ms) const { return at_ms_ != 0 && now_ms >= at_ms_; }
  uint64_t at_ms() const { return at_ms_; }

 private:
  explicit Deadline(uint64_t at_ms) : at_ms_(at_ms) {}
  uint64_t at_ms_ = 0;
};

// The part of cmd_time_out a command may use: the kernel's clock started
// when it queued the command, before tcmu-runner picked it up, and the
// failure the handler reports itself must reach the initiator first.
inline uint64_t command_budget_ms(uint64_t cmd_time_out_ms) { return cmd_time_out_ms - cmd_time_out_ms / 4; }

}  // namespace tcmu_switch
