#include "table_slot.h"

#define _LGPL_SOURCE  // inline read-side primitives
#include <urcu-bp.h>

// ThreadSanitizer sees neither liburcu's publication (rcu_xchg_pointer and
// rcu_dereference are inline assembly and volatile loads) nor its grace
// periods, so it reports every reader's access to a table as racing with the
// thread that built the table or deletes it. These annotations state what
// RCU guarantees, on the table's address: publishing releases the table's
// contents to every reader that finds it, and each reader's section ends
// before synchronize_rcu() returns to the writer that deletes the table.
// Without TSan they compile to nothing.
#if defined(__SANITIZE_THREAD__)
#define TABLE_SLOT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TABLE_SLOT_TSAN 1
#endif
#endif
#ifdef TABLE_SLOT_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace tcmu_switch {
namespace {

void tsan_release(const RegionTable* table) {
#ifdef TABLE_SLOT_TSAN
  __tsan_release(const_cast<RegionTable*>(table));
#else
  (void)table;
#endif
}

void tsan_acquire(const RegionTable* table) {
#ifdef TABLE_SLOT_TSAN
  __tsan_acquire(const_cast<RegionTable*>(table));
#else
  (void)table;
#endif
}

}  // namespace

TableSlot::TableSlot(std::unique_ptr<RegionTable> initial) : current_(initial.release()) {
  current_->generation_ = 1;
}

TableSlot::~TableSlot() {
  // REQUIRES: no reader and no pin is left (the device is closed).
  delete current_;
}

// Taken inside a read-side section, on a table that section found: a writer
// that replaced it is still in synchronize_rcu() and looks at the count only
// afterwards, so once it reads 0 no pin can appear.
TableSlot::Pin::Pin(const RegionTable* table) noexcept : table_(table) {
  table_->pins_.fetch_add(1, std::memory_order_relaxed);
}

TableSlot::Pin& TableSlot::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    reset();
    table_ = other.table_;
    other.table_ = nullptr;
  }
  return *this;
}

// Release: the holder's reads of the table come before the writer's delete.
void TableSlot::Pin::reset() noexcept {
  if (table_ == nullptr) return;
  table_->pins_.fetch_sub(1, std::memory_order_release);
  table_ = nullptr;
}

TableSlot::Reader::Reader(const TableSlot& slot) noexcept {
  urcu_bp_read_lock();
  table_ = rcu_dereference(slot.current_);
  tsan_acquire(table_);
}

TableSlot::Reader::~Reader() {
  tsan_release(table_);
  urcu_bp_read_unlock();
}

uint64_t TableSlot::publish(std::unique_ptr<RegionTable> next) {
  std::lock_guard<std::mutex> lock(writer_mutex_);
  next->generation_ = current_->generation_ + 1;
  const uint64_t generation = next->generation_;
  // rcu_xchg_pointer orders the table's construction before its publication.
  tsan_release(next.get());
  RegionTable* previous = rcu_xchg_pointer(&current_, next.release());
  urcu_bp_synchronize_rcu();
  tsan_acquire(previous);
  retired_.emplace_back(previous);
  free_unpinned();
  return generation;
}

void TableSlot::free_unpinned() {
  std::erase_if(retired_, [](const std::unique_ptr<RegionTable>& table) {
    return table->pins_.load(std::memory_order_acquire) == 0;
  });
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
