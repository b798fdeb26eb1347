#include "table_slot.h"

#define _LGPL_SOURCE  // inline read-side primitives
#include <urcu-bp.h>

namespace tcmu_switch {

TableSlot::TableSlot(std::unique_ptr<RegionTable> initial) : current_(initial.release()) {
  current_->generation_ = 1;
}

TableSlot::~TableSlot() {
  // REQUIRES: no reader is left (the device is closed).
  delete current_;
}

TableSlot::Reader::Reader(const TableSlot& slot) noexcept {
  urcu_bp_read_lock();
  table_ = rcu_dereference(slot.current_);
}

TableSlot::Reader::~Reader() { urcu_bp_read_unlock(); }

uint64_t TableSlot::publish(std::unique_ptr<RegionTable> next) {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  next->generation_ = current_->generation_ + 1;
  const uint64_t generation = next->generation_;
  // rcu_xchg_pointer orders the table's construction before its publication.
  RegionTable* previous = rcu_xchg_pointer(&current_, next.release());
  urcu_bp_synchronize_rcu();
  delete previous;
  return generation;
}

std::unique_ptr<RegionTable> TableSlot::clone_current() const {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  return current_->clone();
}

uint64_t TableSlot::generation() const {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  return current_->generation_;
}

}  // namespace tcmu_switch
