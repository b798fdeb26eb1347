// GroupsInFlight: on one io_uring lane, the fewest requests any command
// (IoGroup) still has issued and not reaped. No command can finish before
// that many more completions are posted, so the lane's worker may sleep until
// then: one wake-up per command instead of one per piece.
//
// Commands are counted in buckets by how many requests they have in flight,
// a command with more than kTracked in the last (it needs at least that
// many), with a bit per non-empty bucket: every step is O(1), nothing
// allocates. The lane holder's only.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "io_request.h"

namespace tcmu_switch {

class GroupsInFlight {
 public:
  static constexpr uint32_t kTracked = 64;

  // A request without a group is a command of its own.
  void issued(IoGroup* group) noexcept {
    if (group == nullptr) return enter(1);
    if (group->in_flight++ == 0) return enter(1);
    move(group->in_flight - 1, group->in_flight);
  }
  void reaped(IoGroup* group) noexcept {
    if (group == nullptr) return leave(1);
    if (--group->in_flight == 0) return leave(1);
    move(group->in_flight + 1, group->in_flight);
  }
  // The completions the next command to finish needs at least (capped at
  // kTracked); 0 when nothing is in flight.
  uint32_t fewest_left() const noexcept {
    return non_empty_ == 0 ? 0 : static_cast<uint32_t>(std::countr_zero(non_empty_)) + 1;
  }

 private:
  static uint32_t bucket(uint32_t in_flight) noexcept { return in_flight < kTracked ? in_flight : kTracked; }
  void enter(uint32_t in_flight) noexcept {
    const uint32_t b = bucket(in_flight);
    if (commands_[b]++ == 0) non_empty_ |= uint64_t{1} << (b - 1);
  }
  void leave(uint32_t in_flight) noexcept {
    const uint32_t b = bucket(in_flight);
    if (--commands_[b] == 0) non_empty_ &= ~(uint64_t{1} << (b - 1));
  }
  void move(uint32_t from, uint32_t to) noexcept {
    if (bucket(from) == bucket(to)) return;
    leave(from);
    enter(to);
  }

  std::array<uint32_t, kTracked + 1> commands_{};  // [b]: commands in bucket b; [0] unused
  uint64_t non_empty_ = 0;                         // bit b-1: commands_[b] > 0
};

}  // namespace tcmu_switch
