// IoEngine: the process's pool of I/O worker threads, shared by its LUNs.
//
// Each worker is a lane with an inbox (lock-free, filled by any thread) and
// either an io_uring (the default) or, where io_uring is unavailable, plain
// preadv2/pwritev2 calls on its thread. With io_uring the thread that submits
// a command issues it on the lane's ring and reaps what already finished, so
// a command that the paths complete at once (RAM, page cache) costs one
// system call and no thread hand-off; the worker thread only reaps what
// finishes later. Data moves straight between the command's buffers and the
// paths: no copy in userspace.
//
// Devices attach to an engine (their paths' fds go into every lane's table of
// registered files) and detach at close; every LUN of a tcmu-runner that asks
// for the same kind and number of workers shares one engine, so the process
// has O(workers) I/O threads, not O(LUNs). Each device keeps its own pools:
// a request carries its device (IoRequest::target).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "device_config.h"
#include "io_request.h"
#include "path.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

class IoWorker;

// Registered-file slots per lane (two per path): bounded by the process's
// open-file limit, which the kernel applies to the table.
inline constexpr uint32_t kMaxFileSlots = 4096;

class IoEngine {
 public:
  // A new engine. kAuto picks io_uring and falls back to the synchronous
  // engine, and logs the choice; a forced kind that cannot start is an error
  // naming it. file_slots: registered files per lane (0: the default,
  // min(kMaxFileSlots, RLIMIT_NOFILE)). reporter hears only about set-up.
  static Result<std::unique_ptr<IoEngine>> create(EngineKind kind, uint32_t nr_workers, Reporter& reporter,
                                                  uint32_t file_slots = 0);
  // The process's engine of this kind and size, created by the first caller
  // and stopped when the last owner lets go; kAuto takes a running io_uring
  // engine before it tries to create one.
  static Result<std::shared_ptr<IoEngine>> shared(EngineKind kind, uint32_t nr_workers, Reporter& reporter);
  ~IoEngine();  // REQUIRES: nothing attached
  IoEngine(const IoEngine&) = delete;
  IoEngine& operator=(const IoEngine&) = delete;

  EngineKind kind() const { return kind_; }
  uint32_t nr_workers() const { return static_cast<uint32_t>(workers_.size()); }
  // Devices attached now.
  size_t nr_targets() const;
  // Wake-ups of the worker threads, all lanes and devices (IoWorker::wakeups):
  // with the commands completed, what tells whether a command costs one
  // hand-off or one per piece.
  uint64_t wakeups() const;
  uint64_t idle_wakeups() const;

  // Makes target's paths usable from every lane: registers their fds in a
  // free range of slots (target.file_base), or leaves them as plain fds when
  // no range is free. Never fails. REQUIRES: target outlives its attachment.
  void attach(IoTarget& target);
  // REQUIRES: none of target's requests in flight.
  void detach(IoTarget& target) noexcept;

  // Sends a list of requests (linked by IoRequest::next) down one lane; never
  // blocks on I/O, never fails. Completions may be delivered before it
  // returns, on the calling thread.
  void submit(uint32_t worker_nr, IoRequest* list) noexcept;

 private:
  explicit IoEngine(EngineKind kind);
  // First free run of n slots, or kUnregisteredFiles. REQUIRES: mutex_ held.
  uint32_t find_free_slots(size_t n) const;

  EngineKind kind_;
  std::vector<std::unique_ptr<IoWorker>> workers_;
  mutable std::mutex mutex_;  // attach/detach: the slot map and the target count
  std::vector<bool> slot_used_;
  size_t nr_targets_ = 0;
};

}  // namespace tcmu_switch
