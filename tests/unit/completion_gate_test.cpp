// CompletionGate: completers inside hold off the command thread; a held gate
// keeps completers out until the awaited completion has landed.
#include "completion_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using tcmu_switch::CompletionGate;
using tcmu_switch::GatePass;
using namespace std::chrono_literals;

// landed(): the completion counter has gone past `entry`.
struct Counter {
  std::atomic<uint32_t> next{0};
  static bool landed(const void* self, uint32_t entry) {
    return static_cast<const Counter*>(self)->next.load() > entry;
  }
};

TEST(CompletionGateTest, OpenGateLetsCompletersThrough) {
  Counter c;
  CompletionGate gate(Counter::landed, &c);
  { GatePass pass(gate); }
  gate.close();
  gate.open();
  { GatePass pass(gate); }
}

TEST(CompletionGateTest, CloseWaitsForTheCompleterInside) {
  Counter c;
  CompletionGate gate(Counter::landed, &c);
  std::atomic<bool> closed{false};
  gate.enter();
  std::thread command_thread([&] {
    gate.close();
    closed = true;
    gate.open();
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(closed.load());
  gate.leave();
  command_thread.join();
  EXPECT_TRUE(closed.load());
}

TEST(CompletionGateTest, HeldGateKeepsCompletersOutUntilTheCompletionLands) {
  Counter c;
  CompletionGate gate(Counter::landed, &c);
  gate.close();
  gate.hold(0);  // waits for completion number 0
  std::atomic<bool> through{false};
  std::thread completer([&] {
    GatePass pass(gate);
    through = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(through.load());
  c.next = 1;  // the runner's completion
  completer.join();
  EXPECT_TRUE(through.load());
}

TEST(CompletionGateTest, NestedCompletionDoesNotWaitForAClosingGate) {
  Counter c;
  CompletionGate gate(Counter::landed, &c);
  gate.enter();
  std::thread command_thread([&] {
    gate.close();
    gate.open();
  });
  std::this_thread::sleep_for(20ms);  // close() is waiting for this thread to leave
  gate.enter();                       // an emulation's next step completing at once
  gate.leave();
  gate.leave();
  command_thread.join();
}

// Completers race the command thread: whenever it closes the gate and holds
// it for completion number N, the next completion is its own and is number N.
TEST(CompletionGateTest, NoCompletionSlipsBetweenTheMarkAndTheHeldOne) {
  Counter c;
  CompletionGate gate(Counter::landed, &c);
  std::atomic<bool> stop{false};
  std::vector<std::thread> completers;
  for (int i = 0; i < 3; i++)
    completers.emplace_back([&] {
      while (!stop.load()) {
        GatePass pass(gate);
        c.next.fetch_add(1);
      }
    });
  int slipped = 0;
  for (int round = 0; round < 2000; round++) {
    gate.close();
    const uint32_t marked = c.next.load();
    gate.hold(marked);
    std::this_thread::yield();  // handle_cmd returns; the runner completes
    if (c.next.fetch_add(1) != marked) slipped++;
  }
  stop = true;
  for (auto& t : completers) t.join();
  EXPECT_EQ(slipped, 0);
}

}  // namespace
