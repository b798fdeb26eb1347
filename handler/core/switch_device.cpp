#include "switch_device.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "command.h"
#include "fixed_pool.h"
#include "io_engine.h"
#include "io_failure.h"
#include "io_split.h"
#include "path_prober.h"
#include "table_file.h"
#include "table_slot.h"
#include "table_text.h"

namespace tcmu_switch {
namespace {

constexpr uint32_t kNoPath = UINT32_MAX;
constexpr size_t kCommandsPerQueueSlot = 2;  // UNMAP descriptors arrive as extra commands
// Bounds one LUN's piece pool, and its command pool (two per queue slot): a
// LUN's share of the engine's lanes, which hold any number.
constexpr size_t kMaxPiecePool = 65536;
constexpr size_t kPageBytes = 4096;
// Commands that take longer are logged with their range and time: the
// figures to hold against cmd_time_out.
constexpr uint64_t kSlowCommandMs = 1000;

const char* op_name(IoOp op) {
  switch (op) {
    case IoOp::kRead: return "READ";
    case IoOp::kWrite: return "WRITE";
    case IoOp::kFlush: return "SYNCHRONIZE CACHE";
    case IoOp::kUnmap: return "UNMAP";
  }
  return "?";
}

Result<std::unique_ptr<RegionTable>> load_table(const DeviceConfig& config, uint64_t size_bytes) {
  const TableGeometry geometry = config.geometry(size_bytes);
  if (config.table_path.empty()) return RegionTable::create(geometry);
  return load_table_file(config.table_path, geometry);
}

// Fields a reload may not change: they shape open fds, threads and pools.
Status check_reloadable(const DeviceConfig& now, const DeviceConfig& next) {
  auto differs = [](const char* field) {
    return Status::error(std::string(field) + " differs: a reload may change only the table and the default "
                         "mapping; recreate the LUN to change it");
  };
  if (next.paths != now.paths) return differs("the path list");
  if (next.mode != now.mode) return differs("mode");
  if (next.region_sectors != now.region_sectors) return differs("region_sectors");
  if (next.engine != now.engine) return differs("engine");
  if (next.nr_workers != now.nr_workers) return differs("workers");
  return {};
}

}  // namespace

SwitchDevice::SwitchDevice(const DeviceConfig& config, const DeviceLimits& limits, CommandSink& sink,
                           Reporter& reporter)
    : config_(config),
      mode_(config.mode),
      limits_(limits), sink_(sink), reporter_(reporter), size_bytes_(limits.size_bytes) {}

Result<std::unique_ptr<SwitchDevice>> SwitchDevice::open(const DeviceConfig& config, const DeviceLimits& limits,
                                                         CommandSink& sink, Reporter& reporter) {
  std::unique_ptr<SwitchDevice> dev(new SwitchDevice(config, limits, sink, reporter));
  if (Status s = dev->start(); !s.ok()) return s;
  return dev;
}

Status SwitchDevice::start() {
  if (limits_.size_bytes == 0) return Status::error("LUN size is 0");
  if (limits_.max_xfer_bytes == 0) return Status::error("maximum transfer length is 0");
  if (limits_.queue_depth == 0) return Status::error("queue depth (hw_queue_depth) is 0");
  for (uint32_t i = 0; i < config_.nr_paths(); i++) {
    auto path = Path::open(config_.paths[i], i, limits_.size_bytes, reporter_);
    if (!path.ok()) return path.status();
    path_ptrs_.push_back(path.value().get());
    paths_.push_back(std::move(path).value());
  }
  auto table = load_table(config_, limits_.size_bytes);
  if (!table.ok()) return table.status();
  table_ = std::make_unique<TableSlot>(std::move(table).value());

  // A window of max_xfer_bytes touches at most max_xfer / region + 2 regions
  // when unaligned; a flush takes one piece per path.
  const uint64_t region_bytes = config_.region_sectors * kSectorBytes;
  max_pieces_ = static_cast<size_t>(std::max<uint64_t>(limits_.max_xfer_bytes / region_bytes + 2, config_.nr_paths()));
  // Sized from the LUN (hw_queue_depth, max transfer), once, at open.
  const size_t nr_commands =
      std::min<size_t>(limits_.queue_depth, kMaxPiecePool / kCommandsPerQueueSlot) * kCommandsPerQueueSlot;
  const size_t nr_pieces = std::max(max_pieces_, std::min(nr_commands * max_pieces_, kMaxPiecePool));
  // The kernel hands a command at most one iovec per page; slicing adds one per piece.
  const size_t iov_per_command = limits_.max_xfer_bytes / kPageBytes + 2 + max_pieces_;
  iov_arena_ = std::make_unique<iovec[]>(nr_commands * iov_per_command);
  commands_ = std::make_unique<FixedPool<Command>>(nr_commands, [&](Command& c, size_t i) {
    c.iov_scratch = &iov_arena_[i * iov_per_command];
    c.iov_capacity = iov_per_command;
    c.device = this;
    c.range.owner = &c;
  });
  pieces_ = std::make_unique<FixedPool<IoRequest>>(nr_pieces);

  auto engine = IoEngine::shared(config_.engine, config_.nr_workers, reporter_);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();
  target_ = IoTarget{.paths = path_ptrs_, .completion = this, .reporter = &reporter_};
  engine_->attach();
  const uint64_t nr_regions = config_.geometry(limits_.size_bytes).nr_regions;
  while ((nr_regions - 1) >> bucket_shift_ >= kRegionBuckets) bucket_shift_++;
  region_ios_ = std::make_unique<std::atomic<uint64_t>[]>(kRegionBuckets);
  prober_ = std::make_unique<PathProber>(path_ptrs_, config_.probe_interval_ms,
                                         [this](uint32_t path_nr) { note_path_state(path_nr, PathState::kHealthy); });
  uevents_ = std::make_unique<PathUevents>(path_ptrs_, [this](uint32_t path_nr) { return fail_path(path_nr); },
                                           reporter_);
  if (Status s = uevents_->listen(); !s.ok())
    reporter_.report(LogLevel::kWarning, s.message() + ": paths fail at their first I/O error only");
  const auto nr_direct = std::ranges::count_if(path_ptrs_, [](const Path* p) { return p->direct(); });
  reporter_.report(LogLevel::kInfo, std::string("opened: ") + mode_name(config_.mode) + ", " +
                                        std::to_string(config_.nr_paths()) + " paths (" +
                                        std::to_string(nr_direct) + " with O_DIRECT), " +
                                        std::to_string(table_->generation()) + " table generation, " +
                                        engine_name(engine_->kind()) + " engine with " +
                                        std::to_string(engine_->nr_workers()) + " workers (" +
                                        std::to_string(engine_->nr_devices()) + " LUNs on it); pools of " +
                                        std::to_string(nr_commands) + " commands and " + std::to_string(nr_pieces) +
                                        " I/Os (queue depth " + std::to_string(limits_.queue_depth) +
                                        ", max transfer " + std::to_string(limits_.max_xfer_bytes >> 10) + " KiB)");
  return {};
}

SwitchDevice::~SwitchDevice() {
  uevents_.reset();  // no uevent may fail a path of a device going away
  prober_.reset();  // its callback reports through this device
  if (engine_ != nullptr) engine_->detach();  // nothing in flight: tcmu-runner drained
  engine_.reset();  // the last LUN's close joins the workers
}

// ---- data path ----------------------------------------------------------

IoStatus SwitchDevice::read(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                            uint64_t len_bytes, Deadline deadline, BufferKind buffer) noexcept {
  return submit_split(IoOp::kRead, user, iov, iov_cnt, offset_bytes, len_bytes, 0, false, deadline, buffer);
}

IoStatus SwitchDevice::write(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                             uint64_t len_bytes, bool fua, Deadline deadline, BufferKind buffer,
                             const RangeHold* inside) noexcept {
  return submit_split(IoOp::kWrite, user, iov, iov_cnt, offset_bytes, len_bytes, fua ? RWF_DSYNC : 0, false,
                      deadline, buffer, inside != nullptr);
}

bool SwitchDevice::hold_range(uint64_t offset_bytes, uint64_t len_bytes, RangeHold& hold) noexcept {
  Command* cmd = begin_command(nullptr);
  if (cmd == nullptr) return false;
  cmd->is_hold = true;
  cmd->hold_granted.store(false, std::memory_order_relaxed);
  cmd->ordered = true;
  if (!ranges_.acquire(cmd->range, offset_bytes, offset_bytes + len_bytes))
    cmd->hold_granted.wait(false, std::memory_order_acquire);  // start_command() wakes it
  hold.cmd = cmd;
  return true;
}

void SwitchDevice::release_hold(RangeHold& hold) noexcept {
  Command* cmd = hold.cmd;
  hold.cmd = nullptr;
  cmd->is_hold = false;
  RangeLock::Waiter* granted = release_range(cmd);
  commands_->release(cmd);
  start_granted(granted);
}

IoStatus SwitchDevice::unmap(void* user, uint64_t offset_bytes, uint64_t len_bytes, bool zeroes,
                             Deadline deadline) noexcept {
  return submit_split(IoOp::kUnmap, user, nullptr, 0, offset_bytes, len_bytes, 0, zeroes, deadline,
                      BufferKind::kCopied);
}

bool SwitchDevice::unmap_reads_zero() const {
  return std::all_of(paths_.begin(), paths_.end(), [](const auto& p) { return p->deallocates_to_zero(); });
}

ExtentStatus SwitchDevice::extent_status(uint64_t offset_bytes, uint64_t max_len) const noexcept {
  ExtentStatus run{0, true};
  for (uint32_t regions = 0; regions < kStatusRegions && run.len < max_len; regions++) {
    const uint64_t at = offset_bytes + run.len;
    uint64_t region_end = 0;
    uint32_t path_nr = 0;
    {  // no lseek inside the read-side section: a publisher would wait for it
      const TableSlot::Reader reader(*table_);
      const uint64_t region_bytes = reader.table().region_bytes();
      region_end = (at / region_bytes + 1) * region_bytes;
      path_nr = route(reader.table(), at / region_bytes);
    }
    const Path& path = *paths_[path_nr];
    const uint64_t want = std::min(region_end, offset_bytes + max_len) - at;
    const ExtentStatus piece = file_extent_status(path.fd(), path.config().offset_bytes + at, want);
    if (run.len > 0 && piece.mapped != run.mapped) break;
    run = {run.len + piece.len, piece.mapped};
    if (piece.len < want) break;  // the status changes inside this region
  }
  return run;
}

IoStatus SwitchDevice::flush(void* user) noexcept {
  // Every path may hold cached writes, so SYNCHRONIZE CACHE reaches all of
  // them (dm-switch forwards no flushes at all).
  Command* cmd = begin_command(user);
  if (cmd == nullptr) return IoStatus::kBusy;
  IoRequest* list = nullptr;
  if (!acquire_pieces(paths_.size(), &list)) {
    commands_->release(cmd);
    busy_.fetch_add(1, std::memory_order_relaxed);
    return IoStatus::kBusy;
  }
  uint32_t path_nr = 0;
  for (IoRequest* req = list; req != nullptr; req = req->next) {
    *req = IoRequest{.op = IoOp::kFlush, .path_nr = path_nr++, .target = &target_, .cmd = cmd,
                     .group = &cmd->lane_group, .next = req->next};
  }
  cmd->pending.store(static_cast<uint32_t>(paths_.size()) + 1, std::memory_order_relaxed);
  dispatch(list);
  put_command(cmd);  // drop the submission guard
  return IoStatus::kOk;
}

IoStatus SwitchDevice::submit_split(IoOp op, void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                                    uint64_t len_bytes, int rw_flags, bool unmap_zeroes, Deadline deadline,
                                    BufferKind buffer, bool inside_hold) noexcept {
  const uint64_t size = size_bytes_.load(std::memory_order_acquire);
  if (offset_bytes > size || len_bytes > size - offset_bytes) return IoStatus::kRange;
  Command* cmd = begin_command(user);
  if (cmd == nullptr) return IoStatus::kBusy;
  cmd->buffer = buffer;
  cmd->op = op;
  cmd->rw_flags = rw_flags;
  cmd->unmap_zeroes = unmap_zeroes;
  cmd->next_offset = offset_bytes;
  cmd->remaining = len_bytes;
  cmd->data = IovecCursor(iov, iov_cnt);
  cmd->deadline = deadline;
  cmd->first_offset = offset_bytes;
  cmd->total_len = len_bytes;
  // Reads do not wait: SCSI orders no commands the initiator has in flight
  // together, and a read changes nothing a later command could lose. Only
  // what changes data is held back behind what overlaps it.
  cmd->ordered = limits_.order_writes && op != IoOp::kRead && len_bytes > 0 && !inside_hold;
  if (cmd->ordered && !ranges_.acquire(cmd->range, offset_bytes, offset_bytes + len_bytes))
    return IoStatus::kOk;  // start_command() runs it once the range is free
  if (expired(cmd)) {      // the runner held it past its time: log it and fail it
    finish_command(cmd, error_status(op));
    return IoStatus::kOk;
  }
  if (const IoStatus s = send_window(cmd); s != IoStatus::kOk) {
    RangeLock::Waiter* granted = release_range(cmd);
    commands_->release(cmd);
    start_granted(granted);
    return s;
  }
  put_command(cmd);  // drop the submission guard; the last reference sends the next window
  return IoStatus::kOk;
}

// A command that waited for its range starts on the thread that freed it; a
// RangeHold's caller wakes up.
void SwitchDevice::start_command(Command* cmd) noexcept {
  if (cmd->is_hold) {
    cmd->hold_granted.store(true, std::memory_order_release);
    cmd->hold_granted.notify_one();
    return;
  }
  const IoStatus s = expired(cmd) ? error_status(cmd->op) : send_window(cmd);
  if (s != IoStatus::kOk) {
    finish_command(cmd, s);
    return;
  }
  put_command(cmd);
}

// Starts the commands a release granted, in order. A loop per thread, not a
// recursion: a granted command the paths finish at once releases its range
// on this same thread and grants the next, and a queue of writes to one
// block would otherwise nest a call chain per command.
void SwitchDevice::start_granted(RangeLock::Waiter* granted) noexcept {
  thread_local RangeLock::Waiter* queue_head = nullptr;
  thread_local RangeLock::Waiter* queue_tail = nullptr;
  thread_local bool starting = false;
  if (granted == nullptr) return;
  (queue_tail != nullptr ? queue_tail->next_granted : queue_head) = granted;
  for (queue_tail = granted; queue_tail->next_granted != nullptr; queue_tail = queue_tail->next_granted) {
  }
  if (starting) return;  // an outer frame on this thread is draining the queue
  starting = true;
  while (queue_head != nullptr) {
    RangeLock::Waiter* w = queue_head;
    queue_head = w->next_granted;
    if (queue_head == nullptr) queue_tail = nullptr;
    auto* cmd = static_cast<Command*>(w->owner);
    cmd->device->start_command(cmd);
  }
  starting = false;
}

RangeLock::Waiter* SwitchDevice::release_range(Command* cmd) noexcept {
  if (!cmd->ordered) return nullptr;
  cmd->ordered = false;
  return ranges_.release(cmd->range);
}

// True once the command's deadline has passed: nothing more may be issued
// for it. Pieces already issued cannot be recalled; its range stays held
// until they are back.
bool SwitchDevice::expired(Command* cmd) noexcept {
  if (!cmd->deadline.passed(monotonic_ms())) return false;
  cmd->timed_out.store(true, std::memory_order_relaxed);
  return true;
}

std::string SwitchDevice::describe(const Command& cmd) const {
  const uint64_t block = std::max<uint32_t>(limits_.block_bytes, 1);
  return std::string(op_name(cmd.op)) + " of LBA " + std::to_string(cmd.first_offset / block) + " + " +
         std::to_string(cmd.total_len / block) + " blocks";
}

// Ends the command exactly once: logs it if it ran out of time or long,
// frees its range (starting whoever waited for it) and reports to the sink.
void SwitchDevice::finish_command(Command* cmd, IoStatus status) noexcept {
  const uint64_t ran_ms = monotonic_ms() - cmd->start_ms;
  if (cmd->timed_out.load(std::memory_order_relaxed)) {
    reporter_.report(LogLevel::kError, describe(*cmd) + " out of time: ran " + std::to_string(ran_ms) +
                                           " ms, deadline " + std::to_string(cmd->deadline.at_ms() - cmd->start_ms) +
                                           " ms; " + std::to_string(cmd->remaining) +
                                           " bytes never issued, failed back once its issued pieces were done");
  } else if (ran_ms >= kSlowCommandMs) {
    reporter_.report(LogLevel::kWarning, describe(*cmd) + " ran " + std::to_string(ran_ms) + " ms");
  }
  cmd->table.reset();
  RangeLock::Waiter* granted = release_range(cmd);
  void* user = cmd->user;
  commands_->release(cmd);
  commands_done_.fetch_add(1, std::memory_order_relaxed);
  sink_.command_done(user, status);
  start_granted(granted);
}

// Splits the command's next window at regions and sends the pieces, keeping
// the submission guard. On error nothing was sent. Adjacent pieces routed to
// one path are contiguous on it too (a path holds LUN byte o at its offset +
// o), so they go out as one I/O, its iovecs joined where the buffer runs on,
// up to IOV_MAX iovecs (the window already bounds its length by the max
// transfer). A merged I/O fails over, bounces or fails as a whole, as a piece
// did: every region in it is on the same path.
IoStatus SwitchDevice::send_window(Command* cmd) noexcept {
  const uint64_t window = std::min(cmd->remaining, limits_.max_xfer_bytes);
  // One generation routes every piece of the command: the first window
  // reads the current one and, when more windows follow, pins it for them.
  std::optional<TableSlot::Reader> reader;
  if (!cmd->table) reader.emplace(*table_);
  const RegionTable& table = cmd->table ? cmd->table.table() : reader->table();
  const uint64_t nr = count_region_pieces(table.region_bytes(), cmd->next_offset, window);
  IoRequest* list = nullptr;
  if (!acquire_pieces(nr, &list)) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    return IoStatus::kBusy;
  }
  const bool transfers = cmd->op == IoOp::kRead || cmd->op == IoOp::kWrite;
  size_t iov_used = 0;
  bool sliced = true;
  IoRequest* last = nullptr;  // the I/O the next piece may extend
  IoRequest* spare = list;    // pieces not yet used: merging leaves some over
  uint64_t ios = 0;
  for_each_region_piece(table.region_bytes(), cmd->next_offset, window,
                        [&](uint64_t region_nr, uint64_t piece_offset, uint64_t piece_len) {
    const uint32_t path_nr = route(table, region_nr);
    iovec* slice = cmd->iov_scratch + iov_used;
    size_t n = 0;
    if (transfers) {
      n = cmd->data.take(piece_len, slice, cmd->iov_capacity - iov_used);
      sliced = sliced && n > 0;
    }
    if (last != nullptr && last->path_nr == path_nr && (!transfers || fits_iov_max(*last, slice, n))) {
      extend_request(*last, piece_len, slice, n);
    } else {
      IoRequest* req = spare;
      spare = req->next;
      *req = IoRequest{.op = cmd->op, .buffered = cmd->page_cache(), .rw_flags = cmd->rw_flags,
                       .path_nr = path_nr, .lun_offset = piece_offset, .len = piece_len,
                       .region_nr = region_nr, .iov = slice, .target = &target_, .cmd = cmd,
                       .group = &cmd->lane_group, .next = spare};
      req->iov_cnt = static_cast<uint32_t>(n);
      last = req;
      ios++;
    }
    iov_used = static_cast<size_t>(last->iov + last->iov_cnt - cmd->iov_scratch);
  });
  if (last != nullptr) last->next = nullptr;
  release_pieces(spare);
  if (!sliced) {  // the iovecs do not cover the command, or are finer than the kernel ever sends
    release_pieces(list);
    return IoStatus::kHardwareError;
  }
  if (reader && window < cmd->remaining) cmd->table = reader->pin();
  if (cmd->page_cache()) page_cache_pieces_.fetch_add(ios, std::memory_order_relaxed);
  cmd->next_offset += window;
  cmd->remaining -= window;
  cmd->pending.store(static_cast<uint32_t>(ios) + 1, std::memory_order_relaxed);
  dispatch(list);
  return IoStatus::kOk;
}

Command* SwitchDevice::begin_command(void* user) noexcept {
  Command* cmd = commands_->acquire();
  if (cmd == nullptr) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  cmd->user = user;
  cmd->status.store(IoStatus::kOk, std::memory_order_relaxed);
  // A recycled command may have failed with windows left: nothing of it may
  // carry over into a flush.
  cmd->op = IoOp::kFlush;
  cmd->buffer = BufferKind::kCopied;
  cmd->remaining = 0;
  cmd->deadline = Deadline();
  cmd->timed_out.store(false, std::memory_order_relaxed);
  cmd->start_ms = monotonic_ms();
  cmd->first_offset = cmd->total_len = 0;
  return cmd;
}

bool SwitchDevice::acquire_pieces(uint64_t nr, IoRequest** list) noexcept {
  *list = nullptr;
  for (uint64_t i = 0; i < nr; i++) {
    IoRequest* req = pieces_->acquire();
    if (req == nullptr) {
      release_pieces(*list);
      *list = nullptr;
      return false;
    }
    req->next = *list;
    *list = req;
  }
  return true;
}

void SwitchDevice::release_pieces(IoRequest* list) noexcept {
  while (list != nullptr) {
    IoRequest* next = list->next;
    pieces_->release(list);
    list = next;
  }
}

uint32_t SwitchDevice::route(const RegionTable& table, uint64_t region_nr) const noexcept {
  const uint32_t path_nr = table.path_nr(region_nr);
  if (mode_ != Mode::kMultipath || paths_[path_nr]->state() == PathState::kHealthy) return path_nr;
  // The region's effective route moves while its path is down.
  const uint32_t other = next_usable_path(path_nr);
  return other == kNoPath ? path_nr : other;
}

uint32_t SwitchDevice::next_usable_path(uint32_t after) const noexcept {
  const uint32_t n = static_cast<uint32_t>(paths_.size());
  for (uint32_t i = 1; i < n; i++) {
    const uint32_t p = (after + i) % n;
    if (paths_[p]->state() == PathState::kHealthy) return p;
  }
  return kNoPath;
}

void SwitchDevice::dispatch(IoRequest* list) noexcept {
  const uint32_t worker = engine_->lane_of_calling_thread();
  IoRequest* send = nullptr;
  while (list != nullptr) {
    IoRequest* next = list->next;
    list->worker_nr = worker;
    if (mode_ == Mode::kPlacement && paths_[list->path_nr]->state() != PathState::kHealthy) {
      finish_piece(list, error_status(list->op));  // never serve a region from another path
    } else if (list->op == IoOp::kUnmap && !list->cmd->unmap_zeroes &&
               !paths_[list->path_nr]->deallocates_to_zero()) {
      finish_piece(list, IoStatus::kOk);  // a hint the path cannot take (it answers EOPNOTSUPP) and no zeroes owed
    } else {
      list->next = send;
      send = list;
    }
    list = next;
  }
  if (send != nullptr) engine_->submit(worker, send);
}

// A piece sent again (zero-fill, bounce buffer, another path) is new work:
// none once the command is out of time.
void SwitchDevice::resubmit(IoRequest* req) noexcept {
  if (expired(req->cmd)) {
    finish_piece(req, error_status(req->op));
    return;
  }
  req->next = nullptr;
  engine_->submit(req->worker_nr, req);
}

void SwitchDevice::finish_piece(IoRequest* req, IoStatus status) noexcept {
  Command* cmd = req->cmd;
  if (status != IoStatus::kOk) {
    IoStatus expected = IoStatus::kOk;
    cmd->status.compare_exchange_strong(expected, status, std::memory_order_acq_rel);
  }
  pieces_->release(req);
  put_command(cmd);
}

// The last reference sends the next window or completes the command, exactly
// once. A loop, not a recursion: windows the paths finish at once come back
// here on the same thread.
void SwitchDevice::put_command(Command* cmd) noexcept {
  while (cmd->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    IoStatus status = cmd->status.load(std::memory_order_acquire);
    // A window refused for want of pieces ends the command with BUSY: the
    // initiator sends it again whole, and rewriting or rereading the windows
    // already done changes nothing.
    if (status == IoStatus::kOk && cmd->remaining > 0) {
      status = expired(cmd) ? error_status(cmd->op) : send_window(cmd);
      if (status == IoStatus::kOk) continue;
    }
    finish_command(cmd, status);
    return;
  }
}

IoStatus SwitchDevice::error_status(IoOp op) {
  return op == IoOp::kRead ? IoStatus::kReadError : IoStatus::kWriteError;
}

void SwitchDevice::account(Path& path, const IoRequest& req) {
  if (req.op == IoOp::kRead || req.op == IoOp::kWrite) {
    // The histogram counts region pieces: an I/O merged across n regions
    // counts in each. A device grown by resize() counts its new regions in
    // the last bucket.
    const uint64_t end = req.region_nr + req.nr_regions;
    for (uint64_t r = req.region_nr; r < end;) {
      const uint64_t bucket = std::min<uint64_t>(r >> bucket_shift_, kRegionBuckets - 1);
      const uint64_t bucket_end = bucket == kRegionBuckets - 1 ? end : std::min(end, (bucket + 1) << bucket_shift_);
      region_ios_[bucket].fetch_add(bucket_end - r, std::memory_order_relaxed);
      r = bucket_end;
    }
  }
  switch (req.op) {
    case IoOp::kRead:
      path.count(PathCounter::kReads);
      path.count(PathCounter::kBytesRead, req.len);
      break;
    case IoOp::kWrite:
      path.count(PathCounter::kWrites);
      path.count(PathCounter::kBytesWritten, req.len);
      break;
    case IoOp::kFlush: path.count(PathCounter::kFlushes); break;
    case IoOp::kUnmap: path.count(PathCounter::kUnmaps); break;
  }
}

void SwitchDevice::io_done(IoRequest* req, int result) noexcept {
  Path& path = *paths_[req->path_nr];
  if (req->op == IoOp::kUnmap && result == -EOPNOTSUPP && !req->zero_fill && req->cmd->unmap_zeroes) {
    // The range must read back as zeroes (the LUN claims LBPRZ, or a WRITE
    // SAME with UNMAP): a path that cannot deallocate (brd, devices without
    // WRITE ZEROES) writes them, a window at a time, within the deadline.
    req->zero_fill = true;
    resubmit(req);
    return;
  }
  if (result >= 0 || (req->op == IoOp::kUnmap && result == -EOPNOTSUPP)) {
    // A path that cannot deallocate keeps the data; UNMAP is advisory.
    account(path, *req);
    finish_piece(req, IoStatus::kOk);
    return;
  }
  switch (failure_action(req->op, result, req->buffered)) {
    case FailureAction::kRetryBuffered:
      // Not the path's fault (io_failure.h): the page cache takes the buffer.
      req->buffered = true;
      path.count(PathCounter::kBounced);
      if (req->cmd->buffer != BufferKind::kCopied) mapped_direct_refused_.fetch_add(1, std::memory_order_relaxed);
      resubmit(req);
      return;
    case FailureAction::kBufferFault:
      buffer_faults_.fetch_add(1, std::memory_order_relaxed);
      finish_piece(req, error_status(req->op));
      return;
    case FailureAction::kPathError: break;
  }
  path.count(PathCounter::kErrors);
  if (result == -ESHUTDOWN) fail_path(req->path_nr);  // fenced (rbd_path.h): no other path may write it
  else if (mode_ == Mode::kMultipath && retry_elsewhere(req)) return;
  finish_piece(req, error_status(req->op));
}

bool SwitchDevice::retry_elsewhere(IoRequest* req) noexcept {
  const uint32_t failed = req->path_nr;
  fail_path(failed);
  const uint32_t next = next_usable_path(failed);
  if (next == kNoPath || req->attempts + 1u >= paths_.size()) return false;
  req->attempts++;
  req->path_nr = next;
  req->buffered = req->cmd->page_cache();
  paths_[failed]->count(PathCounter::kFailovers);
  resubmit(req);
  return true;
}

// ---- path health ----------------------------------------------------------

// From an I/O error, or at once from a uevent (path_uevents.h).
bool SwitchDevice::fail_path(uint32_t path_nr) {
  if (!paths_[path_nr]->transition(PathState::kHealthy, PathState::kFailed)) return false;
  note_path_state(path_nr, PathState::kFailed);
  return true;
}

void SwitchDevice::note_path_state(uint32_t path_nr, PathState state) {
  reporter_.report(state == PathState::kHealthy ? LogLevel::kInfo : LogLevel::kWarning,
                   "path " + std::to_string(path_nr) + " (" + paths_[path_nr]->config().name + ", " +
                       paths_[path_nr]->config().device + ") is now " + path_state_name(state));
  PathStateListener listener;
  {
    std::lock_guard<std::mutex> lock(control_mutex_);
    listener = listener_;
  }
  if (listener) listener(path_nr, state);
}

Status SwitchDevice::set_path_state(uint32_t path_nr, PathState state) {
  if (path_nr >= paths_.size())
    return Status::error("path " + std::to_string(path_nr) + " >= nr_paths " + std::to_string(paths_.size()));
  if (paths_[path_nr]->set_state(state) != state) note_path_state(path_nr, state);
  return {};
}

void SwitchDevice::set_path_state_listener(PathStateListener listener) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  listener_ = std::move(listener);
}

// ---- control ----------------------------------------------------------------

Status SwitchDevice::reload(const DeviceConfig& config) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  if (Status s = check_reloadable(config_, config); !s.ok()) return s;
  auto table = load_table(config, size_bytes_.load());
  if (!table.ok()) return table.status();
  const uint64_t generation = table_->publish(std::move(table).value());
  config_ = config;
  reporter_.report(LogLevel::kInfo, "table reloaded from " + config.source + ": generation " +
                                        std::to_string(generation));
  return {};
}

Status SwitchDevice::resize(uint64_t size_bytes) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  if (size_bytes == 0) return Status::error("LUN size 0");
  for (const auto& path : paths_)
    if (Status s = path->check_capacity(size_bytes); !s.ok()) return s;
  // The config's table file must still fit (a reload or restart reads it
  // again), but the regions the LUN keeps keep their live mapping: a change
  // made over D-Bus survives a resize.
  if (auto file = load_table(config_, size_bytes); !file.ok()) return file.status();
  auto table = table_->clone_current()->resized(config_.geometry(size_bytes).nr_regions);
  if (!table.ok()) return table.status();
  // Grow: the new table first, then the size. Shrink: the size first.
  if (size_bytes < size_bytes_.load()) size_bytes_.store(size_bytes, std::memory_order_release);
  table_->publish(std::move(table).value());
  size_bytes_.store(size_bytes, std::memory_order_release);
  return {};
}

Result<uint64_t> SwitchDevice::publish_table(std::unique_ptr<RegionTable> table) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  return publish_locked(std::move(table));
}

Result<uint64_t> SwitchDevice::publish_locked(std::unique_ptr<RegionTable> table) {
  const TableGeometry want = config_.geometry(size_bytes_.load());
  const TableGeometry& got = table->geometry();
  if (got.nr_paths != want.nr_paths || got.region_sectors != want.region_sectors ||
      got.nr_regions != want.nr_regions)
    return Status::error("table geometry (" + std::to_string(got.nr_paths) + " paths, " +
                         std::to_string(got.region_sectors) + "-sector regions, " + std::to_string(got.nr_regions) +
                         " regions) does not match the device (" + std::to_string(want.nr_paths) + ", " +
                         std::to_string(want.region_sectors) + ", " + std::to_string(want.nr_regions) + ")");
  // On disk before anyone is told: a change acknowledged survives a restart.
  if (config_.persist)
    if (Status s = save_table_file(config_.table_path, *table); !s.ok())
      return Status::error("table not changed: " + s.message());
  return table_->publish(std::move(table));
}

// The clone, the edit and the publish under one lock: a reload or another
// call cannot publish in between and be undone by this one.
Result<uint64_t> SwitchDevice::apply_mappings(std::string_view text) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  auto table = table_->clone_current();
  if (Status s = apply_text(text, *table); !s.ok()) return s;
  return publish_locked(std::move(table));
}

std::unique_ptr<const RegionTable> SwitchDevice::snapshot() const {
  std::lock_guard<std::mutex> lock(control_mutex_);
  return table_->clone_current();
}

TableGeometry SwitchDevice::geometry() const {
  std::lock_guard<std::mutex> lock(control_mutex_);
  return config_.geometry(size_bytes_.load());
}

DeviceConfig SwitchDevice::config() const {
  std::lock_guard<std::mutex> lock(control_mutex_);
  return config_;
}

DeviceReport SwitchDevice::report() const {
  std::lock_guard<std::mutex> lock(control_mutex_);
  DeviceReport r{config_.source, config_.table_path, table_->clone_current(), config_.mode, engine_->kind(),
                 engine_->nr_workers(), size_bytes_.load(), table_->generation(), {},
                 busy_.load(std::memory_order_relaxed), page_cache_pieces_.load(std::memory_order_relaxed),
                 mapped_direct_refused_.load(std::memory_order_relaxed),
                 buffer_faults_.load(std::memory_order_relaxed), commands_done_.load(std::memory_order_relaxed),
                 static_cast<uint32_t>(engine_->nr_devices()), engine_->wakeups(), engine_->idle_wakeups()};
  for (const auto& path : paths_) r.paths.push_back({path->config(), path->state(), path->direct(), path->stats()});
  return r;
}

RegionHistogram SwitchDevice::region_histogram() const {
  RegionHistogram h{bucket_shift_, std::vector<uint64_t>(kRegionBuckets)};
  for (size_t b = 0; b < kRegionBuckets; b++) h.ios[b] = region_ios_[b].load(std::memory_order_relaxed);
  return h;
}

}  // namespace tcmu_switch
