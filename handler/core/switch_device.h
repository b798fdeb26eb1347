// SwitchDevice: one switch LUN. Splits each command at region boundaries,
// routes every piece through the current table generation, sends the pieces
// to the paths through the I/O engine and completes the command exactly once
// when its last piece is done.
//
// Threads: read/write/flush/unmap come from tcmu-runner's per-device command
// thread (or from a completion callback, for the commands tcmu-runner
// emulates with a read then a write). Pieces finish on the submitting thread
// when the paths complete them at once, else on engine workers. Control calls
// (reload, path state, stats) come from the runner's main thread or D-Bus.
// None of them waits for another on the I/O path: tables are RCU-published,
// pools are lock-free.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "buffer_kind.h"
#include "deadline.h"
#include "device_config.h"
#include "extent_status.h"
#include "io_request.h"
#include "path.h"
#include "path_uevents.h"
#include "range_lock.h"
#include "region_table.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

struct Command;  // command.h: the device's per-command state, private to it
class IoEngine;
class PathProber;
class TableSlot;
template <typename T>
class FixedPool;

enum class IoStatus : uint8_t {
  kOk,             // queued; the sink hears the outcome later
  kBusy,           // a pool is empty: retry later (TASK SET FULL)
  kReadError,      // MEDIUM ERROR, unrecovered read
  kWriteError,     // MEDIUM ERROR, write fault
  kRange,          // beyond the end of the LUN
  kHardwareError,  // the command cannot be carried out (a bug or a limit)
};

// Hears about finished commands: from an engine worker thread, or from the
// submitting thread itself, before read()/write()/... return.
class CommandSink {
 public:
  virtual ~CommandSink() = default;
  virtual void command_done(void* user, IoStatus status) noexcept = 0;
};

struct DeviceLimits {
  uint64_t size_bytes = 0;
  uint64_t max_xfer_bytes = 1 << 20;  // largest command the kernel sends
  uint32_t queue_depth = 128;         // commands in flight: the LUN's hw_queue_depth (the pools' size)
  uint32_t block_bytes = 512;         // the LUN's logical block, for LBAs in the logs
  // Write-class commands wait for overlapping ones still in flight (RangeLock).
  // Off only to measure what the ordering costs.
  bool order_writes = true;
};

struct PathReport {
  PathConfig config;
  PathState state;
  bool direct;
  PathStats stats;
};

// I/O per range of regions: bucket b counts pieces for regions
// [b << bucket_shift, (b + 1) << bucket_shift).
struct RegionHistogram {
  uint32_t bucket_shift = 0;
  std::vector<uint64_t> ios;
};

// One consistent view of the device for the control plane: everything read
// under the control mutex, so the table is the one `generation` names.
struct DeviceReport {
  std::string config_source;
  std::string table_path;  // empty: default mapping only
  std::unique_ptr<const RegionTable> table;
  Mode mode;
  EngineKind engine;
  uint32_t nr_workers;
  uint64_t size_bytes;
  uint64_t generation;
  std::vector<PathReport> paths;
  uint64_t busy;  // commands refused because a pool was empty
  uint64_t page_cache_pieces;      // I/Os (merged pieces) of kMappedNoGup commands sent through the page cache
  uint64_t mapped_direct_refused;  // pieces of kMapped buffers O_DIRECT refused, then sent buffered
  uint64_t buffer_faults;         // pieces failed because the buffer was unusable (no path blamed)
  uint64_t commands_done;         // commands completed (the sink told), since open
  uint32_t engine_luns;           // LUNs attached to the engine this one shares (itself included)
  uint64_t worker_wakeups;        // the engine's worker threads woke up (IoEngine::wakeups), for all its LUNs
  uint64_t idle_worker_wakeups;   // ... and found nothing to do
};

// A byte range held against every write-class command (SwitchDevice::hold_range).
struct RangeHold {
  Command* cmd = nullptr;
};

class SwitchDevice final : private IoCompletion {
 public:
  using PathStateListener = std::function<void(uint32_t path_nr, PathState state)>;

  // Opens every path, loads the table and starts the engine and the prober.
  static Result<std::unique_ptr<SwitchDevice>> open(const DeviceConfig& config, const DeviceLimits& limits,
                                                    CommandSink& sink, Reporter& reporter);
  // REQUIRES: no command in flight (tcmu-runner drains before close()).
  ~SwitchDevice() override;
  SwitchDevice(const SwitchDevice&) = delete;
  SwitchDevice& operator=(const SwitchDevice&) = delete;

  // The data path: anything but kOk means nothing was queued and the caller
  // completes the command itself with that status. Past its deadline a
  // command issues nothing more and ends with a read or write error once its
  // issued pieces are back. Writes and unmaps first wait for every earlier
  // overlapping one still in flight; reads do not wait (see switch_device.cpp).
  // The iovec array must stay valid until the command completes (tcmu-runner
  // keeps it in the command): later windows, and a command that waited for
  // its range, read it then. `buffer` says where the data lives.
  IoStatus read(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes, uint64_t len_bytes,
                Deadline deadline = {}, BufferKind buffer = BufferKind::kCopied) noexcept;
  // A write inside a RangeHold of the caller's does not wait for it.
  IoStatus write(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes, uint64_t len_bytes,
                 bool fua, Deadline deadline = {}, BufferKind buffer = BufferKind::kCopied,
                 const RangeHold* inside = nullptr) noexcept;
  IoStatus flush(void* user) noexcept;
  // An UNMAP deallocates where the paths can. With `zeroes` the range must
  // read back as zeroes afterwards (LBPRZ, WRITE SAME with UNMAP), and a path
  // that cannot deallocate writes them; without, it keeps its data.
  IoStatus unmap(void* user, uint64_t offset_bytes, uint64_t len_bytes, bool zeroes = true,
                 Deadline deadline = {}) noexcept;
  // COMPARE AND WRITE's atomicity: takes [offset, offset + len) as a write
  // would and keeps it until release_hold(), so no overlapping write or unmap
  // runs between the caller's read and its write (given `inside`). Blocks the
  // caller until every earlier overlapping one is done. False: no command
  // free (BUSY). REQUIRES: len > 0; the caller is not an engine worker.
  bool hold_range(uint64_t offset_bytes, uint64_t len_bytes, RangeHold& hold) noexcept;
  void release_hold(RangeHold& hold) noexcept;
  // Every path leaves zeroes where it deallocates: what LBPRZ may claim.
  bool unmap_reads_zero() const;
  // GET LBA STATUS: whether the LUN's bytes from offset_bytes are mapped or
  // deallocated on the paths the current table routes them to, and how far
  // that runs: at most max_len bytes and kStatusRegions regions (the command
  // thread asks, two lseeks a region). REQUIRES: offset_bytes + max_len is
  // within the LUN.
  static constexpr uint32_t kStatusRegions = 1024;
  ExtentStatus extent_status(uint64_t offset_bytes, uint64_t max_len) const noexcept;

  // Control. Each validates everything first and changes nothing on error.
  // A new config may change the table and the default mapping only.
  Status reload(const DeviceConfig& config);
  Status resize(uint64_t size_bytes);
  // Publishes `table` (its geometry must be this device's); returns the generation.
  Result<uint64_t> publish_table(std::unique_ptr<RegionTable> table);
  // Applies dm-switch set_region_mappings text (table_text.h) to a copy of
  // the live table and publishes it; a bad entry changes nothing.
  Result<uint64_t> apply_mappings(std::string_view text);
  // A copy of the published table (chunks shared, copy on write).
  std::unique_ptr<const RegionTable> snapshot() const;
  Status set_path_state(uint32_t path_nr, PathState state);
  void set_path_state_listener(PathStateListener listener);
  DeviceReport report() const;
  RegionHistogram region_histogram() const;
  DeviceConfig config() const;
  TableGeometry geometry() const;

 private:
  SwitchDevice(const DeviceConfig& config, const DeviceLimits& limits, CommandSink& sink, Reporter& reporter);
  Status start();
  // REQUIRES: control_mutex_ held.
  Result<uint64_t> publish_locked(std::unique_ptr<RegionTable> table);

  IoStatus submit_split(IoOp op, void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                        uint64_t len_bytes, int rw_flags, bool unmap_zeroes, Deadline deadline,
                        BufferKind buffer, bool inside_hold = false) noexcept;
  IoStatus send_window(Command* cmd) noexcept;
  bool expired(Command* cmd) noexcept;
  void start_granted(RangeLock::Waiter* granted) noexcept;
  void start_command(Command* cmd) noexcept;
  void finish_command(Command* cmd, IoStatus status) noexcept;
  RangeLock::Waiter* release_range(Command* cmd) noexcept;
  std::string describe(const Command& cmd) const;
  Command* begin_command(void* user) noexcept;
  bool acquire_pieces(uint64_t nr, IoRequest** list) noexcept;
  void release_pieces(IoRequest* list) noexcept;
  uint32_t route(const RegionTable& table, uint64_t region_nr) const noexcept;
  uint32_t next_usable_path(uint32_t after) const noexcept;
  void dispatch(IoRequest* list) noexcept;  // down the calling thread's lane
  void resubmit(IoRequest* req) noexcept;
  void finish_piece(IoRequest* req, IoStatus status) noexcept;
  void put_command(Command* cmd) noexcept;
  void io_done(IoRequest* req, int result) noexcept override;
  bool retry_elsewhere(IoRequest* req) noexcept;
  bool fail_path(uint32_t path_nr);
  void note_path_state(uint32_t path_nr, PathState state);
  static IoStatus error_status(IoOp op);
  void account(Path& path, const IoRequest& req);

  mutable std::mutex control_mutex_;  // config_, limits_, listener_: control plane only
  DeviceConfig config_;
  const Mode mode_;                  // fixed for the device's life: reloads cannot change it
  DeviceLimits limits_;
  CommandSink& sink_;
  Reporter& reporter_;
  std::vector<std::unique_ptr<Path>> paths_;
  std::vector<Path*> path_ptrs_;
  std::unique_ptr<TableSlot> table_;
  std::atomic<uint64_t> size_bytes_;
  size_t max_pieces_ = 0;
  std::unique_ptr<iovec[]> iov_arena_;
  std::unique_ptr<FixedPool<Command>> commands_;
  std::unique_ptr<FixedPool<IoRequest>> pieces_;
  RangeLock ranges_;
  std::shared_ptr<IoEngine> engine_;  // the process's, shared with its other LUNs
  IoTarget target_;                   // this device on the engine: its pieces point here
  std::atomic<uint64_t> busy_{0};
  std::atomic<uint64_t> buffer_faults_{0};
  std::atomic<uint64_t> page_cache_pieces_{0};
  std::atomic<uint64_t> mapped_direct_refused_{0};
  std::atomic<uint64_t> commands_done_{0};
  PathStateListener listener_;
  static constexpr size_t kRegionBuckets = 1024;
  uint32_t bucket_shift_ = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> region_ios_;
  std::unique_ptr<PathProber> prober_;
  std::unique_ptr<PathUevents> uevents_;
};

}  // namespace tcmu_switch
