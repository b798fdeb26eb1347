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
// Every LUN of a tcmu-runner that asks for the same kind and number of
// workers shares one engine, so the process has O(workers) I/O threads, not
// O(LUNs). Each device keeps its own pools: a request carries its device
// (IoRequest::target: paths, completion).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "device_config.h"
#include "io_request.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

class IoWorker;

class IoEngine {
 public:
  // A new engine. kAuto picks io_uring and falls back to the synchronous
  // engine, and logs the choice; a forced kind that cannot start is an error
  // naming it. reporter hears only about set-up.
  static Result<std::unique_ptr<IoEngine>> create(EngineKind kind, uint32_t nr_workers, Reporter& reporter);
  // The process's engine of this kind and size, created by the first caller
  // and stopped when the last owner lets go; kAuto takes a running engine of
  // that size (io_uring first) before it creates one.
  static Result<std::shared_ptr<IoEngine>> shared(EngineKind kind, uint32_t nr_workers, Reporter& reporter);
  ~IoEngine();  // REQUIRES: nothing in flight
  IoEngine(const IoEngine&) = delete;
  IoEngine& operator=(const IoEngine&) = delete;

  EngineKind kind() const { return kind_; }
  uint32_t nr_workers() const { return static_cast<uint32_t>(workers_.size()); }
  // Devices using the engine now (attach/detach).
  size_t nr_devices() const { return nr_devices_.load(std::memory_order_relaxed); }
  // Wake-ups of the worker threads, all lanes and devices (IoWorker::wakeups):
  // with the commands completed, what tells whether a command costs one
  // hand-off or one per piece.
  uint64_t wakeups() const;
  uint64_t idle_wakeups() const;

  // A device starts, or stops, sending requests (counted for the logs).
  void attach() noexcept { nr_devices_.fetch_add(1, std::memory_order_relaxed); }
  void detach() noexcept { nr_devices_.fetch_sub(1, std::memory_order_relaxed); }

  // Sends a list of requests (linked by IoRequest::next) down one lane; never
  // blocks on I/O, never fails. Completions may be delivered before it
  // returns, on the calling thread.
  void submit(uint32_t worker_nr, IoRequest* list) noexcept;

  // The lane for commands that the calling thread starts: the same one every
  // time, and the process's threads dealt round the lanes in the order they
  // first ask. A thread's commands stay on one ring, whose completions the
  // kernel runs as task work on the thread that issued them: spread over
  // two rings, one submitting thread served both and woke both workers.
  uint32_t lane_of_calling_thread() const noexcept;

 private:
  explicit IoEngine(EngineKind kind);

  EngineKind kind_;
  std::vector<std::unique_ptr<IoWorker>> workers_;
  std::atomic<size_t> nr_devices_{0};
};

}  // namespace tcmu_switch
