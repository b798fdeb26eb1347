// RangeLock: exclusive byte ranges, waiters served in arrival order.
#include "range_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace tcmu_switch {
namespace {

using Waiter = RangeLock::Waiter;

std::vector<Waiter*> granted_list(Waiter* w) {
  std::vector<Waiter*> out;
  for (; w != nullptr; w = w->next_granted) out.push_back(w);
  return out;
}

TEST(RangeLock, DisjointRangesAreHeldTogether) {
  RangeLock lock;
  Waiter a, b;
  EXPECT_TRUE(lock.acquire(a, 0, 4096));
  EXPECT_TRUE(lock.acquire(b, 4096, 8192));  // adjacent, not overlapping
  EXPECT_EQ(lock.size(), 2u);
  EXPECT_TRUE(granted_list(lock.release(a)).empty());
  EXPECT_TRUE(granted_list(lock.release(b)).empty());
  EXPECT_EQ(lock.size(), 0u);
}

TEST(RangeLock, OverlapWaitsUntilTheHolderReleases) {
  RangeLock lock;
  Waiter a, b;
  ASSERT_TRUE(lock.acquire(a, 0, 1 << 20));
  EXPECT_FALSE(lock.acquire(b, 65536, 65536 + 4096));
  EXPECT_FALSE(b.held);
  EXPECT_EQ(granted_list(lock.release(a)), std::vector<Waiter*>{&b});
  EXPECT_TRUE(b.held);
  EXPECT_TRUE(granted_list(lock.release(b)).empty());
}

TEST(RangeLock, ALaterWaiterNeverOvertakesAnEarlierOverlappingOne) {
  RangeLock lock;
  Waiter a, b, c;
  ASSERT_TRUE(lock.acquire(a, 0, 8192));
  ASSERT_FALSE(lock.acquire(b, 4096, 12288));  // waits for a
  // c overlaps only b: b is still waiting, yet c must not go first.
  EXPECT_FALSE(lock.acquire(c, 8192, 16384));
  EXPECT_EQ(granted_list(lock.release(a)), std::vector<Waiter*>{&b});
  EXPECT_FALSE(c.held);
  EXPECT_EQ(granted_list(lock.release(b)), std::vector<Waiter*>{&c});
  lock.release(c);
}

TEST(RangeLock, OneReleaseGrantsEveryWaiterItAloneBlocked) {
  RangeLock lock;
  Waiter big, w1, w2, w3, other;
  ASSERT_TRUE(lock.acquire(other, 1 << 30, (1 << 30) + 4096));
  ASSERT_TRUE(lock.acquire(big, 0, 1 << 20));
  ASSERT_FALSE(lock.acquire(w1, 0, 4096));
  ASSERT_FALSE(lock.acquire(w2, 8192, 12288));
  // w3 overlaps big and the unrelated holder: still blocked after big goes.
  ASSERT_FALSE(lock.acquire(w3, (1 << 20) - 4096, (1 << 30) + 4096));
  EXPECT_EQ(granted_list(lock.release(big)), (std::vector<Waiter*>{&w1, &w2}));
  EXPECT_FALSE(w3.held);
  EXPECT_EQ(granted_list(lock.release(other)), std::vector<Waiter*>{&w3});
  lock.release(w1);
  lock.release(w2);
  lock.release(w3);
  EXPECT_EQ(lock.size(), 0u);
}

TEST(RangeLock, ReleasingAWaiterlessHolderInTheMiddleKeepsTheList) {
  RangeLock lock;
  Waiter a, b, c, d;
  ASSERT_TRUE(lock.acquire(a, 0, 10));
  ASSERT_TRUE(lock.acquire(b, 10, 20));
  ASSERT_TRUE(lock.acquire(c, 20, 30));
  lock.release(b);
  ASSERT_FALSE(lock.acquire(d, 5, 25));  // overlaps a and c
  EXPECT_TRUE(granted_list(lock.release(a)).empty());
  EXPECT_EQ(granted_list(lock.release(c)), std::vector<Waiter*>{&d});
  lock.release(d);
  EXPECT_EQ(lock.size(), 0u);
}

// Many threads, each with its own waiters, hammer a few hot blocks. A writer
// that holds a range stamps it; nobody else may stamp an overlapping block
// while it holds, and every waiter gets its turn exactly once.
TEST(RangeLock, ConcurrentHoldersNeverOverlap) {
  RangeLock lock;
  constexpr int kBlocks = 16, kThreads = 4, kRounds = 4000;
  std::atomic<int> owner[kBlocks];
  for (auto& o : owner) o.store(-1);
  std::atomic<int> overlaps{0};
  std::atomic<uint64_t> granted_twice{0};
  // A waiter is granted by whoever releases; the grantee's thread then runs
  // its critical section. Model that with a per-waiter flag.
  struct Slot {
    Waiter w;
    std::atomic<bool> go{false};
  };
  auto hold = [&](int id, const Waiter& w) {
    for (uint64_t b = w.begin; b < w.end; b++) {
      int expected = -1;
      if (!owner[b].compare_exchange_strong(expected, id)) overlaps++;
    }
    std::this_thread::yield();
    for (uint64_t b = w.begin; b < w.end; b++) owner[b].store(-1);
  };
  auto grant_all = [&](Waiter* g) {
    while (g != nullptr) {
      Waiter* next = g->next_granted;  // once told to go, g is its owner's again
      auto* s = static_cast<Slot*>(g->owner);
      if (s->go.exchange(true)) granted_twice++;
      g = next;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      Slot slot;
      slot.w.owner = &slot;
      for (int i = 0; i < kRounds; i++) {
        const uint64_t begin = rng() % kBlocks;
        const uint64_t end = begin + 1 + rng() % std::min<uint64_t>(3, kBlocks - begin);
        slot.go.store(false);
        if (!lock.acquire(slot.w, begin, end)) {
          while (!slot.go.load()) std::this_thread::yield();
        }
        hold(t, slot.w);
        grant_all(lock.release(slot.w));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(granted_twice.load(), 0u);
  EXPECT_EQ(lock.size(), 0u);
}

}  // namespace
}  // namespace tcmu_switch
