#include "uevent_monitor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace tcmu_switch {
namespace {

using namespace std::chrono_literals;

// A device whose uevent file any root process may poke: writing "change"
// there makes the kernel send a synthetic change uevent for it.
constexpr char kDevpath[] = "/devices/virtual/mem/null";

class Waiter final : public UeventListener {
 public:
  void uevent(const Uevent& event, Clock::time_point) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.devpath == kDevpath && event.action == "change") seen_++;
    cv_.notify_all();
  }
  void uevents_lost(const std::string&) noexcept override {}
  bool wait_for_change(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, 5s, [&] { return seen_ >= count; });
  }
  int seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int seen_ = 0;
};

void poke() {
  std::ofstream out(std::string("/sys") + kDevpath + "/uevent");
  out << "change\n";
  out.close();
  ASSERT_TRUE(out) << "cannot write /sys" << kDevpath << "/uevent (the test needs root)";
}

TEST(UeventMonitorTest, EveryListenerHearsAKernelUeventUntilItUnsubscribes) {
  Waiter a, b;
  auto sub_a = UeventSubscription::subscribe(a);
  ASSERT_TRUE(sub_a.ok()) << sub_a.status().message();
  {
    auto sub_b = UeventSubscription::subscribe(b);
    ASSERT_TRUE(sub_b.ok()) << sub_b.status().message();
    poke();
    EXPECT_TRUE(a.wait_for_change(1));
    EXPECT_TRUE(b.wait_for_change(1));
  }
  const int b_before = b.seen();
  poke();
  EXPECT_TRUE(a.wait_for_change(2)) << "a still listens after b left";
  EXPECT_EQ(b.seen(), b_before) << "b hears nothing once unsubscribed";
}

TEST(UeventMonitorTest, MonitorStartsAgainAfterItsLastListenerLeft) {
  for (int round = 0; round < 2; round++) {
    Waiter w;
    auto sub = UeventSubscription::subscribe(w);
    ASSERT_TRUE(sub.ok()) << sub.status().message();
    poke();
    EXPECT_TRUE(w.wait_for_change(1)) << "round " << round;
  }
}

}  // namespace
}  // namespace tcmu_switch
