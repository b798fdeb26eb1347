// IoEngine: the device's own pool of I/O worker threads.
//
// Each worker is a lane with a submission queue (lock-free, filled by any
// thread) and either an io_uring with every path's fds registered (the
// default) or, where io_uring is unavailable, plain preadv2/pwritev2 calls on
// its thread. With io_uring the thread that submits a command issues it on the
// lane's ring and reaps what already finished, so a command that the paths
// complete at once (RAM, page cache) costs one system call and no thread
// hand-off; the worker thread only reaps what finishes later. Data moves
// straight between the command's buffers and the paths: no copy in userspace.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "device_config.h"
#include "io_request.h"
#include "path.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

class IoWorker;

// The most requests one lane may hold in flight: io_uring's largest
// completion queue (IORING_MAX_CQ_ENTRIES in Linux 5.4 to 6.x), so a lane's
// ring holds a completion for every request it carries and the kernel never
// has to refuse a submission for want of CQ room. The device's piece pool is
// bounded by it.
inline constexpr size_t kMaxQueueCapacity = 65536;

class IoEngine {
 public:
  // kAuto picks io_uring and falls back to the synchronous engine, and logs
  // the choice; a forced kind that cannot start is an error naming it. queue_capacity bounds the
  // requests in flight at once (the piece pool's size, <= kMaxQueueCapacity).
  static Result<std::unique_ptr<IoEngine>> create(EngineKind kind, uint32_t nr_workers,
                                                  std::span<Path* const> paths, size_t queue_capacity,
                                                  IoCompletion& completion, Reporter& reporter);
  ~IoEngine();  // REQUIRES: nothing in flight
  IoEngine(const IoEngine&) = delete;
  IoEngine& operator=(const IoEngine&) = delete;

  EngineKind kind() const { return kind_; }
  uint32_t nr_workers() const { return static_cast<uint32_t>(workers_.size()); }
  // Wake-ups of the worker threads, all lanes (IoWorker::wakeups): with the
  // commands completed, what tells whether a command costs one hand-off or one
  // per piece.
  uint64_t wakeups() const;
  uint64_t idle_wakeups() const;

  // Sends a list of requests (linked by IoRequest::next) down one lane; never
  // blocks on I/O, never fails (queues hold every request of the pool).
  // Completions may be delivered before it returns, on the calling thread.
  void submit(uint32_t worker_nr, IoRequest* list) noexcept;

 private:
  explicit IoEngine(EngineKind kind);

  EngineKind kind_;
  std::vector<std::unique_ptr<IoWorker>> workers_;
};

}  // namespace tcmu_switch
