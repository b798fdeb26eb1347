// Path: one backend of a switch LUN (a block device or a file), its health
// and its counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <iterator>

#include <sys/types.h>

#include "device_config.h"
#include "io_request.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

enum class PathState : uint8_t {
  kHealthy,
  kFailed,    // an I/O error; the prober brings it back when it answers again
  kDisabled,  // taken out by the administrator; only the administrator restores it
};
// "healthy", "failed", "disabled": the D-Bus and targetcli vocabulary.
const char* path_state_name(PathState state);
Result<PathState> parse_path_state(std::string_view text);

// A path's counters. Adding one takes a row here and its name in
// kPathCounterNames: D-Bus and the targetcli plugin list them from there.
enum class PathCounter : uint8_t {
  // kReads, kWrites and kUnmaps count I/Os issued to the path: adjacent
  // regions of one command on the same path go out as one I/O and count
  // once (switch_device.cpp, send_window); the byte counters are exact.
  kReads,
  kWrites,
  kFlushes,
  kUnmaps,
  kBytesRead,
  kBytesWritten,
  kErrors,        // I/Os that failed on this path
  kFailovers,     // I/Os sent on to another path after an error here
  kBounced,       // I/Os retried through the page cache (O_DIRECT refused the buffer)
};
inline constexpr const char* kPathCounterNames[] = {
    "reads", "writes", "flushes", "unmaps", "bytes_read", "bytes_written", "errors", "failovers", "bounced"};
inline constexpr size_t kNrPathCounters = std::size(kPathCounterNames);
static_assert(static_cast<size_t>(PathCounter::kBounced) + 1 == kNrPathCounters, "a name per counter");

// Plain copies of the counters, for the control plane.
struct PathStats {
  std::array<uint64_t, kNrPathCounters> counts{};
  uint64_t operator[](PathCounter c) const { return counts[static_cast<size_t>(c)]; }
};

// A path that a library serves instead of a file descriptor (rbd_path.h).
// The engine's workers hand it their requests instead of issuing them.
class PathBackend {
 public:
  virtual ~PathBackend() = default;
  // Starts req at file offset offset_bytes; completion.io_done(req, bytes or
  // -errno) follows, on a library thread or before submit returns. Never
  // blocks on I/O, never allocates on our side.
  virtual void submit(IoRequest* req, uint64_t offset_bytes, IoCompletion& completion) noexcept = 0;
  // A blocking read for the prober; true when all len bytes came back.
  virtual bool probe(uint64_t offset_bytes, size_t len) noexcept = 0;
};

class Path {
 public:
  // Opens the device for O_DIRECT I/O (buffered where O_DIRECT is refused, as
  // on tmpfs, which is logged), or an rbd: image through librbd, and checks
  // it holds offset + lun_bytes.
  static Result<std::unique_ptr<Path>> open(const PathConfig& config, uint32_t path_nr, uint64_t lun_bytes,
                                            Reporter& reporter);
  ~Path();
  Path(const Path&) = delete;
  Path& operator=(const Path&) = delete;

  const PathConfig& config() const { return config_; }
  uint32_t path_nr() const { return path_nr_; }
  // -1 for a path with a backend.
  int fd() const { return fd_; }
  // The library behind an rbd: path; nullptr for a file or block device.
  PathBackend* backend() const { return backend_.get(); }
  // Same file without O_DIRECT: for buffers O_DIRECT cannot pin (no-GUP zero
  // copy slots: EEXIST) or use (unaligned: EINVAL); see io_failure.h.
  int buffered_fd() const { return buffered_fd_; }
  bool direct() const { return direct_; }
  // Deallocating a range (fallocate PUNCH_HOLE) works and leaves zeroes: a
  // regular file, or a block device that takes WRITE ZEROES (the kernel
  // answers PUNCH_HOLE on a block device with it, and with EOPNOTSUPP where
  // it has none, as on brd).
  bool deallocates_to_zero() const { return deallocates_to_zero_; }
  uint64_t size_bytes() const { return size_bytes_; }
  // The block device under the path, for uevents: the device itself, or the
  // one a file's file system is on (tmpfs and the like have a number no
  // uevent names).
  std::optional<dev_t> block_device() const { return block_device_; }
  // Checks the path still holds offset + lun_bytes (a resize).
  Status check_capacity(uint64_t lun_bytes) const;

  PathState state() const { return state_.load(std::memory_order_acquire); }
  // Returns the previous state.
  PathState set_state(PathState s) { return state_.exchange(s, std::memory_order_acq_rel); }
  // Moves from -> to; false if the path was not in state `from`.
  bool transition(PathState from, PathState to) {
    return state_.compare_exchange_strong(from, to, std::memory_order_acq_rel);
  }

  // Relaxed: counters order nothing, readers want a recent value only.
  void count(PathCounter c, uint64_t n = 1) {
    counters_[static_cast<size_t>(c)].fetch_add(n, std::memory_order_relaxed);
  }
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
  std::optional<dev_t> block_device_;
  std::unique_ptr<PathBackend> backend_;
  std::atomic<PathState> state_{PathState::kHealthy};
  std::array<std::atomic<uint64_t>, kNrPathCounters> counters_{};
};

}  // namespace tcmu_switch
