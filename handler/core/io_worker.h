// IoWorker: one lane of the I/O engine: a submission queue and a thread.
// The synchronous worker executes every request on its thread. The io_uring
// worker lets the submitting thread issue and reap on the lane's ring itself
// and keeps its thread for completions that arrive later. Internal to the
// engine.
#pragma once

#include <linux/falloc.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "io_request.h"
#include "mpmc_queue.h"
#include "path.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

struct WorkerContext {
  uint32_t worker_nr;
  std::span<Path* const> paths;
  size_t queue_capacity;
  IoCompletion* completion;
  Reporter* reporter;
};

class IoWorker {
 public:
  explicit IoWorker(const WorkerContext& ctx);
  virtual ~IoWorker();
  IoWorker(const IoWorker&) = delete;
  IoWorker& operator=(const IoWorker&) = delete;

  bool has_eventfd() const { return event_fd_ >= 0; }
  // Times the worker thread woke from its wait, and how many of those found
  // nothing to do (the work was taken by a submitting thread meanwhile).
  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  uint64_t idle_wakeups() const { return idle_wakeups_.load(std::memory_order_relaxed); }
  // Takes a list of requests linked by IoRequest::next. Never blocks on
  // I/O and never fails (the queue holds every request of the pool). A
  // request may complete, and be reused, before submit() returns.
  virtual void submit(IoRequest* list) noexcept = 0;
  // What the engine logs once about how its workers were set up ("" if nothing).
  virtual std::string describe_setup() const { return {}; }
  void start();
  void stop() noexcept;

 protected:
  virtual void run() noexcept = 0;
  // Queues every request of the list, the caller then sees that they run;
  // hands those for a path with a backend (rbd_path.h) to it.
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
  uint64_t file_offset(const IoRequest& req) const {
    return ctx_.paths[req.path_nr]->config().offset_bytes + req.lun_offset;
  }

  WorkerContext ctx_;
  MpmcQueue<IoRequest*> queue_;
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

Result<std::unique_ptr<IoWorker>> make_uring_worker(const WorkerContext& ctx);
Result<std::unique_ptr<IoWorker>> make_sync_worker(const WorkerContext& ctx);

}  // namespace tcmu_switch
