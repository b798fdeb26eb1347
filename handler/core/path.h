// Path: one backend of a switch LUN (a block device or a file), its health
// and its counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "device_config.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

enum class PathState : uint8_t {
  kHealthy,
  kFailed,    // an I/O error; the prober brings it back when it answers again
  kDisabled,  // taken out by the administrator; only the administrator restores it
};
const char* path_state_name(PathState state);

// Plain copies of the counters, for the control plane.
struct PathStats {
  uint64_t reads = 0, writes = 0, flushes = 0, unmaps = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
  uint64_t errors = 0, failovers = 0, bounced = 0;
};

class Path {
 public:
  // Opens the device for O_DIRECT I/O (buffered where O_DIRECT is refused, as
  // on tmpfs, which is logged) and checks it holds offset + lun_bytes.
  static Result<std::unique_ptr<Path>> open(const PathConfig& config, uint32_t path_nr, uint64_t lun_bytes,
                                            Reporter& reporter);
  ~Path();
  Path(const Path&) = delete;
  Path& operator=(const Path&) = delete;

  const PathConfig& config() const { return config_; }
  uint32_t path_nr() const { return path_nr_; }
  int fd() const { return fd_; }
  // Same file without O_DIRECT: for buffers O_DIRECT cannot pin (EFAULT).
  int buffered_fd() const { return buffered_fd_; }
  bool direct() const { return direct_; }
  // Deallocating a range (fallocate PUNCH_HOLE) works and leaves zeroes: a
  // regular file, or a block device that takes WRITE ZEROES (the kernel
  // answers PUNCH_HOLE on a block device with it, and with EOPNOTSUPP where
  // it has none, as on brd).
  bool deallocates_to_zero() const { return deallocates_to_zero_; }
  uint64_t size_bytes() const { return size_bytes_; }
  // Checks the path still holds offset + lun_bytes (a resize).
  Status check_capacity(uint64_t lun_bytes) const;

  PathState state() const { return state_.load(std::memory_order_acquire); }
  // Returns the previous state.
  PathState set_state(PathState s) { return state_.exchange(s, std::memory_order_acq_rel); }
  // Moves from -> to; false if the path was not in state `from`.
  bool transition(PathState from, PathState to) {
    return state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
  }

  struct Counters {
    std::atomic<uint64_t> reads{0}, writes{0}, flushes{0}, unmaps{0};
    std::atomic<uint64_t> bytes_read{0}, bytes_written{0};
    std::atomic<uint64_t> errors{0}, failovers{0}, bounced{0};
  };
  Counters& counters() { return counters_; }
  PathStats stats() const;

 private:
  Path(const PathConfig& config, uint32_t path_nr) : config_(config), path_nr_(path_nr) {}

  PathConfig config_;
  uint32_t path_nr_;
  int fd_ = -1;
  int buffered_fd_ = -1;
  bool direct_ = false;
  bool deallocates_to_zero_ = false;
  uint64_t size_bytes_ = 0;
  std::atomic<PathState> state_{PathState::kHealthy};
  Counters counters_;
};

}  // namespace tcmu_switch
