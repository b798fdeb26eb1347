// IoEngine: the device's own pool of I/O worker threads.
//
// Each worker owns a submission queue (lock-free, filled by any thread) and
// either an io_uring with every path's fds registered (the default) or, where
// io_uring is unavailable, plain preadv2/pwritev2 calls. Data moves straight
// between the command's buffers and the paths: no copy in userspace.
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

class IoEngine {
 public:
  // kAuto picks io_uring and falls back to the synchronous engine (logged);
  // a forced kind that cannot start is an error. queue_capacity bounds the
  // requests in flight at once (the piece pool's size).
  static Result<std::unique_ptr<IoEngine>> create(EngineKind kind, uint32_t nr_workers,
                                                  std::span<Path* const> paths, size_t queue_capacity,
                                                  IoCompletion& completion, Reporter& reporter);
  ~IoEngine();  // REQUIRES: nothing in flight
  IoEngine(const IoEngine&) = delete;
  IoEngine& operator=(const IoEngine&) = delete;

  EngineKind kind() const { return kind_; }
  uint32_t nr_workers() const { return static_cast<uint32_t>(workers_.size()); }

  // Queues req on a worker; never blocks, never fails (queues hold every
  // request of the pool). Call kick() after a batch.
  void submit(uint32_t worker_nr, IoRequest* req) noexcept;
  // Wakes the worker if it sleeps.
  void kick(uint32_t worker_nr) noexcept;

 private:
  explicit IoEngine(EngineKind kind);

  EngineKind kind_;
  std::vector<std::unique_ptr<IoWorker>> workers_;
};

}  // namespace tcmu_switch
