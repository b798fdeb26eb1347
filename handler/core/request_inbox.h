// RequestInbox: where any thread leaves requests for one engine lane. An
// intrusive lock-free list (the kernel's llist: push one, take all), linked
// through IoRequest::next, so it holds any number of requests without
// allocating: lanes are shared by every LUN of the process and no lane can
// know in advance how many requests all of them will hand it.
#pragma once

#include <atomic>

#include "io_request.h"

namespace tcmu_switch {

class RequestInbox {
 public:
  // Any thread. The request's `next` is the inbox's until taken.
  void push(IoRequest* req) noexcept {
    IoRequest* head = head_.load(std::memory_order_relaxed);
    do {
      req->next = head;
    } while (!head_.compare_exchange_weak(head, req, std::memory_order_seq_cst, std::memory_order_relaxed));
  }

  // Everything pushed so far, oldest first, linked by next; nullptr when
  // empty. Taking all at once has no ABA hazard, so any thread may call it.
  IoRequest* take_all() noexcept {
    IoRequest* newest_first = head_.exchange(nullptr, std::memory_order_acquire);
    IoRequest* oldest_first = nullptr;
    while (newest_first != nullptr) {
      IoRequest* next = newest_first->next;
      newest_first->next = oldest_first;
      oldest_first = newest_first;
      newest_first = next;
    }
    return oldest_first;
  }

  // seq_cst, like push: a worker that says it sleeps and then looks here
  // pairs with a submitter that pushes and then looks whether it sleeps.
  bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

 private:
  std::atomic<IoRequest*> head_{nullptr};
};

}  // namespace tcmu_switch
