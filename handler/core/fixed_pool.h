// FixedPool: objects preallocated at device open and recycled through a
// lock-free free list. An empty pool answers nullptr at once; the caller turns
// that into BUSY / TASK SET FULL rather than waiting. Command contexts and
// per-piece descriptors each get their own pool, so one layer running dry
// cannot starve the other (the 2010 dm "private biosets" deadlock).
#pragma once

#include <cstddef>
#include <memory>

#include "mpmc_queue.h"

namespace tcmu_switch {

template <typename T>
class FixedPool {
 public:
  // REQUIRES: size >= 1. init(T&, index) runs once per object.
  template <typename Init>
  FixedPool(size_t size, Init init) : objects_(new T[size]), size_(size), free_(size + 1) {
    for (size_t i = 0; i < size; i++) {
      init(objects_[i], i);
      free_.push(&objects_[i]);
    }
  }
  explicit FixedPool(size_t size) : FixedPool(size, [](T&, size_t) {}) {}

  T* acquire() noexcept {
    T* obj = nullptr;
    return free_.pop(obj) ? obj : nullptr;
  }
  void release(T* obj) noexcept { free_.push(obj); }  // cannot fail: capacity > size
  size_t size() const { return size_; }
  T& at(size_t i) { return objects_[i]; }

 private:
  std::unique_ptr<T[]> objects_;
  size_t size_;
  MpmcQueue<T*> free_;
};

}  // namespace tcmu_switch
