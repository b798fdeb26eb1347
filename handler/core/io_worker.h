// IoWorker: one lane of the I/O engine: an inbox and a thread, shared by
// every device attached to the engine (each request names its own: IoTarget).
// The synchronous worker executes every request on its thread. The io_uring
// worker lets the submitting thread issue and reap on the lane's ring itself
// and keeps its thread for completions that arrive later. Internal to the
// engine.
#pragma once

#include <linux/falloc.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "io_request.h"
#include "path.h"
#include "reporter.h"
#include "request_inbox.h"
#include "status.h"

namespace tcmu_switch {

class IoWorker {
 public:
  explicit IoWorker(uint32_t worker_nr);
  virtual ~IoWorker();
  IoWorker(const IoWorker&) = delete;
  IoWorker& operator=(const IoWorker&) = delete;

  bool has_eventfd() const { return event_fd_ >= 0; }
  // Times the worker thread woke from its wait, and how many of those found
  // nothing to do (the work was taken by a submitting thread meanwhile).
  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  uint64_t idle_wakeups() const { return idle_wakeups_.load(std::memory_order_relaxed); }
  // Takes a list of requests linked by IoRequest::next. Never blocks on
  // I/O and never fails (the inbox holds any number). A request may
  // complete, and be reused, before submit() returns.
  virtual void submit(IoRequest* list) noexcept = 0;
  // What the engine logs once about how its workers were set up ("" if nothing).
  virtual std::string describe_setup() const { return {}; }
  void start();
  void stop() noexcept;

 protected:
  virtual void run() noexcept = 0;
  // Wakes the thread from the eventfd.
  void interrupt() noexcept;
  // Leaves every request of the list in the inbox, the caller then sees that
  // they run; hands those for a path with a backend (rbd_path.h) to it.
  void push_all(IoRequest* list) noexcept;

  // Accounts a transfer of `result` bytes or -errno. Returns true when req is
  // finished and was handed to the completion; false when it still has bytes
  // to move (short transfer) and must be issued again.
  bool settle(IoRequest* req, int result) noexcept;
  bool stopping() const noexcept { return stop_.load(std::memory_order_acquire); }
  void count_wakeup(bool idle) noexcept {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (idle) idle_wakeups_.fetch_add(1, std::memory_order_relaxed);
  }
  static const Path& path_of(const IoRequest& req) { return *req.target->paths[req.path_nr]; }
  static uint64_t file_offset(const IoRequest& req) { return path_of(req).config().offset_bytes + req.lun_offset; }

  const uint32_t worker_nr_;
  RequestInbox inbox_;
  int event_fd_ = -1;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> wakeups_{0};
  std::atomic<uint64_t> idle_wakeups_{0};
  std::thread thread_;
};

// fallocate() mode for an UNMAP piece: deallocate, or write zeroes where the
// path could not (IoRequest::zero_fill).
inline int unmap_mode(const IoRequest& req) {
  return (req.zero_fill ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE) | FALLOC_FL_KEEP_SIZE;
}

Result<std::unique_ptr<IoWorker>> make_uring_worker(uint32_t worker_nr);
Result<std::unique_ptr<IoWorker>> make_sync_worker(uint32_t worker_nr);

}  // namespace tcmu_switch
