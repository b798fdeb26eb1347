#include "completion_gate.h"

#include <sched.h>
#include <time.h>

namespace tcmu_switch {
namespace {

// How deep this thread is in completions (any gate's).
thread_local int t_depth = 0;

// Waiting for another thread's few instructions: yield at first, then sleep
// so that a descheduled command thread does not cost a spinning core.
class Backoff {
 public:
  void pause() noexcept {
    if (++rounds_ < kYields) {
      sched_yield();
      return;
    }
    const timespec nap{0, kNapNs};
    nanosleep(&nap, nullptr);
  }

 private:
  static constexpr int kYields = 64;
  static constexpr long kNapNs = 50'000;
  int rounds_ = 0;
};

}  // namespace

void CompletionGate::enter() noexcept {
  if (t_depth++ > 0) {
    inside_.fetch_add(1, std::memory_order_seq_cst);
    return;
  }
  for (;;) {
    // seq_cst on both sides: either close() sees this completer inside, or
    // the completer sees the gate closed.
    inside_.fetch_add(1, std::memory_order_seq_cst);
    const uint64_t state = state_.load(std::memory_order_seq_cst);
    if (state == 0) return;
    inside_.fetch_sub(1, std::memory_order_seq_cst);
    wait_for_open(state);
  }
}

void CompletionGate::leave() noexcept {
  inside_.fetch_sub(1, std::memory_order_seq_cst);
  t_depth--;
}

void CompletionGate::wait_for_open(uint64_t state) noexcept {
  Backoff backoff;
  while (state != 0) {
    if ((state & kHolding) != 0 && landed_(context_, static_cast<uint32_t>(state))) {
      state_.compare_exchange_strong(state, 0, std::memory_order_seq_cst);
    } else {
      backoff.pause();
    }
    state = state_.load(std::memory_order_seq_cst);
  }
}

void CompletionGate::close() noexcept {
  // A holding state left from the last closing has landed: this thread's
  // runner wrote that completion before it called the handler again.
  state_.store((++generation_ << kGenerationShift) | kClosed, std::memory_order_seq_cst);
  Backoff backoff;
  while (inside_.load(std::memory_order_seq_cst) != 0) backoff.pause();
}

void CompletionGate::hold(uint32_t entry) noexcept {
  state_.store((generation_ << kGenerationShift) | kHolding | entry, std::memory_order_seq_cst);
}

void CompletionGate::open() noexcept { state_.store(0, std::memory_order_seq_cst); }

}  // namespace tcmu_switch
