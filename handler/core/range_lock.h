// RangeLock: per-LUN ordering of the commands that change data. A command
// takes its byte range exclusively before any piece of it is issued and lets
// go only once every piece it issued has completed, even when it was failed
// back to the initiator earlier (a piece in a path's queue cannot be
// recalled). A later command that overlaps it waits, queued, so a late write
// can never land on top of data the initiator wrote after it saw the first
// one finish or fail.
//
// Waiters are served in arrival order among overlapping ranges: a command
// waits for every earlier overlapping one, held or still waiting, so two
// writes to the same blocks always land in the order they arrived.
//
// No allocation: each command embeds its Waiter. Never blocks: acquire()
// either grants at once or queues, and release() hands back the waiters it
// granted for the caller to start. The mutex guards a list as long as the
// write-class commands in flight (the LUN's queue depth) and is held only to
// walk it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tcmu_switch {

class RangeLock {
 public:
  struct Waiter {
    void* owner = nullptr;        // whose range it is (the lock never reads it)
    uint64_t begin = 0, end = 0;  // bytes, [begin, end)
    bool held = false;
    Waiter* prev = nullptr;  // arrival order, held and waiting alike
    Waiter* next = nullptr;
    Waiter* next_granted = nullptr;  // release()'s answer
  };

  // Takes [begin, end) for w: true if held now; false if w waits until a
  // release() returns it. REQUIRES: begin < end; w is not in the lock.
  bool acquire(Waiter& w, uint64_t begin, uint64_t end) noexcept;
  // Lets go of w's range. Returns the waiters that hold their range now,
  // linked by next_granted in arrival order; the caller starts them.
  // REQUIRES: w is held.
  Waiter* release(Waiter& w) noexcept;
  // Commands holding or waiting for a range.
  size_t size() const;

 private:
  static bool overlaps(const Waiter& a, const Waiter& b) { return a.begin < b.end && b.begin < a.end; }
  // True when no entry before w overlaps it.
  bool free_before(const Waiter& w) const noexcept;

  mutable std::mutex mutex_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  size_t nr_entries_ = 0;
  size_t nr_waiting_ = 0;
};

}  // namespace tcmu_switch
