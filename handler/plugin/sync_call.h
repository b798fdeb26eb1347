// SyncCall: waits, on the command thread, for one command the plugin sent to
// the SwitchDevice itself (COMPARE AND WRITE's read and write).
//
// handle_cmd must complete its command before it returns: an asynchronous
// handle_cmd is broken in tcmu-runner 1.5.4 (tcmu-runner-abi.md 5.2). So
// COMPARE AND WRITE sends its read and its write and waits for each. The
// device reports every command to the plugin's one CommandSink with the
// `user` pointer it was given; a SyncCall's user() is its address with the
// low bit set, which no tcmur_cmd (malloc'd, aligned) has, so the sink tells
// the two apart.
#pragma once

#include <atomic>
#include <cstdint>

namespace tcmu_switch {

template <typename Status>
class SyncCall {
 public:
  void* user() { return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(this) | kTag); }
  // The SyncCall a sink's `user` names, or null for anything else.
  static SyncCall* from_user(void* user) {
    const auto bits = reinterpret_cast<uintptr_t>(user);
    return (bits & kTag) != 0 ? reinterpret_cast<SyncCall*>(bits & ~kTag) : nullptr;
  }
  void complete(Status status) noexcept {
    status_ = status;
    done_.store(true, std::memory_order_release);
    done_.notify_one();
  }
  Status wait() noexcept {
    done_.wait(false, std::memory_order_acquire);
    return status_;
  }

 private:
  static constexpr uintptr_t kTag = 1;
  std::atomic<bool> done_{false};
  Status status_{};
};

}  // namespace tcmu_switch
