#include "range_lock.h"

namespace tcmu_switch {

bool RangeLock::acquire(Waiter& w, uint64_t begin, uint64_t end) noexcept {
  w.begin = begin;
  w.end = end;
  w.next = nullptr;
  w.next_granted = nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  w.prev = tail_;
  if (tail_ != nullptr) {
    tail_->next = &w;
  } else {
    head_ = &w;
  }
  tail_ = &w;
  nr_entries_++;
  // Every entry already in the list arrived earlier.
  w.held = free_before(w);
  if (!w.held) nr_waiting_++;
  return w.held;
}

RangeLock::Waiter* RangeLock::release(Waiter& w) noexcept {
  Waiter* granted = nullptr;
  Waiter** granted_tail = &granted;
  std::lock_guard<std::mutex> lock(mutex_);
  Waiter* after = w.next;
  (w.prev != nullptr ? w.prev->next : head_) = w.next;
  (w.next != nullptr ? w.next->prev : tail_) = w.prev;
  w.held = false;
  nr_entries_--;
  // Only a waiter that overlapped w can have been waiting for w alone, and
  // waiters come after the holders they wait for.
  for (Waiter* e = after; e != nullptr && nr_waiting_ > 0; e = e->next) {
    if (e->held || !overlaps(*e, w) || !free_before(*e)) continue;
    e->held = true;
    nr_waiting_--;
    *granted_tail = e;
    granted_tail = &e->next_granted;
  }
  *granted_tail = nullptr;
  return granted;
}

size_t RangeLock::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return nr_entries_;
}

bool RangeLock::free_before(const Waiter& w) const noexcept {
  for (const Waiter* e = w.prev; e != nullptr; e = e->prev)
    if (overlaps(*e, w)) return false;
  return true;
}

}  // namespace tcmu_switch
