// UeventMonitor: the process's one listener for kernel uevents, a
// NETLINK_KOBJECT_UEVENT socket through libnl-3 on one thread
// ("switch-uevent"). The thread starts with the first subscription and ends
// with the last, so every LUN of a tcmu-runner shares it and a process with
// no LUN has none.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "status.h"
#include "uevent.h"

namespace tcmu_switch {

class UeventListener {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~UeventListener() = default;
  // Every kernel uevent, on the monitor thread, one at a time for all
  // listeners. received: when the socket handed it over. Must not block
  // (other LUNs wait) nor subscribe or unsubscribe.
  virtual void uevent(const Uevent& event, Clock::time_point received) noexcept = 0;
  // The socket dropped messages (its buffer overflowed) or failed: some
  // device may have gone unnoticed.
  virtual void uevents_lost(const std::string& why) noexcept = 0;
};

// Unsubscribes when destroyed; after that the listener hears nothing more
// and no call to it is under way.
class UeventSubscription {
 public:
  // An error when the socket cannot be opened (names the libnl call).
  static Result<std::unique_ptr<UeventSubscription>> subscribe(UeventListener& listener);
  ~UeventSubscription();
  UeventSubscription(const UeventSubscription&) = delete;
  UeventSubscription& operator=(const UeventSubscription&) = delete;

 private:
  explicit UeventSubscription(UeventListener& listener) : listener_(listener) {}
  UeventListener& listener_;
};

}  // namespace tcmu_switch
