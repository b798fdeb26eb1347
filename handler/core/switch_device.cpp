#include "switch_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "io_failure.h"
#include "io_split.h"
#include "table_file.h"

namespace tcmu_switch {
namespace {

constexpr uint32_t kNoPath = UINT32_MAX;
constexpr size_t kCommandsPerQueueSlot = 2;  // UNMAP descriptors arrive as extra commands
constexpr size_t kMaxPiecePool = 65536;
constexpr size_t kPageBytes = 4096;
constexpr size_t kProbeBytes = 4096;

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

const char* io_status_name(IoStatus status) {
  switch (status) {
    case IoStatus::kOk: return "ok";
    case IoStatus::kBusy: return "busy";
    case IoStatus::kReadError: return "read error";
    case IoStatus::kWriteError: return "write error";
    case IoStatus::kRange: return "out of range";
    case IoStatus::kHardwareError: return "hardware error";
  }
  return "?";
}

SwitchDevice::SwitchDevice(const DeviceConfig& config, const DeviceLimits& limits, CommandSink& sink,
                           Reporter& reporter)
    : config_(config),
      mode_(config.mode),
      probe_interval_ms_(config.probe_interval_ms),
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
  const size_t nr_commands = std::max<size_t>(limits_.queue_depth, 1) * kCommandsPerQueueSlot;
  const size_t nr_pieces = std::max(max_pieces_, std::min(nr_commands * max_pieces_, kMaxPiecePool));
  // The kernel hands a command at most one iovec per page; slicing adds one per piece.
  const size_t iov_per_command = limits_.max_xfer_bytes / kPageBytes + 2 + max_pieces_;
  iov_arena_ = std::make_unique<iovec[]>(nr_commands * iov_per_command);
  commands_ = std::make_unique<FixedPool<Command>>(nr_commands, [&](Command& c, size_t i) {
    c.iov_scratch = &iov_arena_[i * iov_per_command];
    c.iov_capacity = iov_per_command;
  });
  pieces_ = std::make_unique<FixedPool<IoRequest>>(nr_pieces);

  auto engine = IoEngine::create(config_.engine, config_.nr_workers, path_ptrs_, nr_pieces, *this, reporter_);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();
  const uint64_t nr_regions = config_.geometry(limits_.size_bytes).nr_regions;
  while ((nr_regions - 1) >> bucket_shift_ >= kRegionBuckets) bucket_shift_++;
  region_ios_ = std::make_unique<std::atomic<uint64_t>[]>(kRegionBuckets);
  prober_ = std::thread([this] { probe_loop(); });
  reporter_.report(LogLevel::kInfo, std::string("opened: ") + mode_name(config_.mode) + ", " +
                                        std::to_string(config_.nr_paths()) + " paths, " +
                                        std::to_string(table_->generation()) + " table generation, " +
                                        engine_name(engine_->kind()) + " engine with " +
                                        std::to_string(engine_->nr_workers()) + " workers");
  return {};
}

SwitchDevice::~SwitchDevice() {
  if (prober_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(prober_mutex_);
      prober_stop_ = true;
    }
    prober_cv_.notify_all();
    prober_.join();
  }
  engine_.reset();  // joins the workers before the pools they use go away
}

// ---- data path ----------------------------------------------------------

IoStatus SwitchDevice::read(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                            uint64_t len_bytes) noexcept {
  return submit_split(IoOp::kRead, user, iov, iov_cnt, offset_bytes, len_bytes, 0);
}

IoStatus SwitchDevice::write(void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                             uint64_t len_bytes, bool fua) noexcept {
  return submit_split(IoOp::kWrite, user, iov, iov_cnt, offset_bytes, len_bytes, fua ? RWF_DSYNC : 0);
}

IoStatus SwitchDevice::unmap(void* user, uint64_t offset_bytes, uint64_t len_bytes) noexcept {
  return submit_split(IoOp::kUnmap, user, nullptr, 0, offset_bytes, len_bytes, 0);
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
    *req = IoRequest{.op = IoOp::kFlush, .path_nr = path_nr++, .cmd = cmd, .next = req->next};
  }
  cmd->pending.store(static_cast<uint32_t>(paths_.size()) + 1, std::memory_order_relaxed);
  dispatch(pick_worker(), list);
  put_command(cmd);  // drop the submission guard
  return IoStatus::kOk;
}

IoStatus SwitchDevice::submit_split(IoOp op, void* user, const iovec* iov, size_t iov_cnt, uint64_t offset_bytes,
                                    uint64_t len_bytes, int rw_flags) noexcept {
  const uint64_t size = size_bytes_.load(std::memory_order_acquire);
  if (offset_bytes > size || len_bytes > size - offset_bytes) return IoStatus::kRange;
  Command* cmd = begin_command(user);
  if (cmd == nullptr) return IoStatus::kBusy;
  const bool transfers = op == IoOp::kRead || op == IoOp::kWrite;
  cmd->page_cache = transfers && zero_copy_.count(iov, iov_cnt) == ZeroCopyWindow::BufferKind::kMappedNoGup;
  cmd->op = op;
  cmd->rw_flags = rw_flags;
  cmd->next_offset = offset_bytes;
  cmd->remaining = len_bytes;
  cmd->data = IovecCursor(iov, iov_cnt);
  if (const IoStatus s = send_window(cmd); s != IoStatus::kOk) {
    commands_->release(cmd);
    return s;
  }
  put_command(cmd);  // drop the submission guard; the last reference sends the next window
  return IoStatus::kOk;
}

// Splits the command's next window at regions and sends the pieces, keeping
// the submission guard. On error nothing was sent.
IoStatus SwitchDevice::send_window(Command* cmd) noexcept {
  const uint64_t window = std::min(cmd->remaining, limits_.max_xfer_bytes);
  // One generation routes every piece of the window.
  TableSlot::Reader reader(*table_);
  const RegionTable& table = reader.table();
  const uint64_t nr = count_region_pieces(table.region_bytes(), cmd->next_offset, window);
  IoRequest* list = nullptr;
  if (!acquire_pieces(nr, &list)) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    return IoStatus::kBusy;
  }
  const bool transfers = cmd->op == IoOp::kRead || cmd->op == IoOp::kWrite;
  size_t iov_used = 0;
  bool sliced = true;
  IoRequest* req = list;
  for_each_region_piece(table.region_bytes(), cmd->next_offset, window,
                        [&](uint64_t region_nr, uint64_t piece_offset, uint64_t piece_len) {
    IoRequest* next = req->next;
    *req = IoRequest{.op = cmd->op, .buffered = cmd->page_cache, .rw_flags = cmd->rw_flags,
                     .path_nr = route(table, region_nr), .lun_offset = piece_offset, .len = piece_len,
                     .region_nr = region_nr, .cmd = cmd, .next = next};
    if (transfers) {
      const size_t n = cmd->data.take(piece_len, cmd->iov_scratch + iov_used, cmd->iov_capacity - iov_used);
      sliced = sliced && n > 0;
      req->iov = cmd->iov_scratch + iov_used;
      req->iov_cnt = static_cast<uint32_t>(n);
      iov_used += n;
    }
    req = next;
  });
  if (!sliced) {  // the iovecs do not cover the command, or are finer than the kernel ever sends
    release_pieces(list);
    return IoStatus::kHardwareError;
  }
  if (cmd->page_cache) zero_copy_.count_page_cache(nr);
  cmd->next_offset += window;
  cmd->remaining -= window;
  cmd->pending.store(static_cast<uint32_t>(nr) + 1, std::memory_order_relaxed);
  dispatch(pick_worker(), list);
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

uint32_t SwitchDevice::pick_worker() noexcept {
  return next_worker_.fetch_add(1, std::memory_order_relaxed) % engine_->nr_workers();
}

void SwitchDevice::dispatch(uint32_t worker, IoRequest* list) noexcept {
  IoRequest* send = nullptr;
  while (list != nullptr) {
    IoRequest* next = list->next;
    list->worker_nr = worker;
    if (mode_ == Mode::kPlacement && paths_[list->path_nr]->state() == PathState::kDisabled) {
      finish_piece(list, error_status(list->op));  // never serve a region from another path
    } else {
      list->next = send;
      send = list;
    }
    list = next;
  }
  if (send != nullptr) engine_->submit(worker, send);
}

void SwitchDevice::resubmit(IoRequest* req) noexcept {
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
      status = send_window(cmd);
      if (status == IoStatus::kOk) continue;
    }
    void* user = cmd->user;
    commands_->release(cmd);
    sink_.command_done(user, status);
    return;
  }
}

IoStatus SwitchDevice::error_status(IoOp op) {
  return op == IoOp::kRead ? IoStatus::kReadError : IoStatus::kWriteError;
}

void SwitchDevice::account(Path& path, const IoRequest& req) {
  Path::Counters& c = path.counters();
  if (req.op == IoOp::kRead || req.op == IoOp::kWrite) {
    // A device grown by resize() counts its new regions in the last bucket.
    const uint64_t bucket = std::min<uint64_t>(req.region_nr >> bucket_shift_, kRegionBuckets - 1);
    region_ios_[bucket].fetch_add(1, std::memory_order_relaxed);
  }
  switch (req.op) {
    case IoOp::kRead:
      c.reads.fetch_add(1, std::memory_order_relaxed);
      c.bytes_read.fetch_add(req.len, std::memory_order_relaxed);
      break;
    case IoOp::kWrite:
      c.writes.fetch_add(1, std::memory_order_relaxed);
      c.bytes_written.fetch_add(req.len, std::memory_order_relaxed);
      break;
    case IoOp::kFlush: c.flushes.fetch_add(1, std::memory_order_relaxed); break;
    case IoOp::kUnmap: c.unmaps.fetch_add(1, std::memory_order_relaxed); break;
  }
}

void SwitchDevice::io_done(IoRequest* req, int result) noexcept {
  Path& path = *paths_[req->path_nr];
  if (req->op == IoOp::kUnmap && result == -EOPNOTSUPP && !req->zero_fill) {
    // tcmu-runner 1.5.4 reports LBPRZ unconditionally (scsi.c: READ CAPACITY
    // 16 byte 14 |= 0x40): unmapped blocks must read back as zeroes. A path
    // that cannot deallocate (brd, devices without discard) writes zeroes.
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
      path.counters().bounced.fetch_add(1, std::memory_order_relaxed);
      if (zero_copy_.classify(req->iov[0].iov_base) != ZeroCopyWindow::BufferKind::kCopied)
        zero_copy_.count_direct_refused();
      resubmit(req);
      return;
    case FailureAction::kBufferFault:
      buffer_faults_.fetch_add(1, std::memory_order_relaxed);
      finish_piece(req, error_status(req->op));
      return;
    case FailureAction::kPathError: break;
  }
  path.counters().errors.fetch_add(1, std::memory_order_relaxed);
  if (mode_ == Mode::kMultipath && retry_elsewhere(req)) return;
  finish_piece(req, error_status(req->op));
}

bool SwitchDevice::retry_elsewhere(IoRequest* req) noexcept {
  const uint32_t failed = req->path_nr;
  if (paths_[failed]->transition(PathState::kHealthy, PathState::kFailed)) note_path_state(failed, PathState::kFailed);
  const uint32_t next = next_usable_path(failed);
  if (next == kNoPath || req->attempts + 1u >= paths_.size()) return false;
  req->attempts++;
  req->path_nr = next;
  req->buffered = req->cmd->page_cache;
  paths_[failed]->counters().failovers.fetch_add(1, std::memory_order_relaxed);
  resubmit(req);
  return true;
}

// ---- path health ----------------------------------------------------------

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
  prober_cv_.notify_all();
}

void SwitchDevice::probe_loop() {
  const auto interval = std::chrono::milliseconds(probe_interval_ms_);
  std::unique_lock<std::mutex> lock(prober_mutex_);
  while (!prober_cv_.wait_for(lock, interval, [this] { return prober_stop_; })) {
    lock.unlock();
    for (auto& path : paths_) {
      if (path->state() == PathState::kFailed && probe(*path) &&
          path->transition(PathState::kFailed, PathState::kHealthy))
        note_path_state(path->path_nr(), PathState::kHealthy);
    }
    lock.lock();
  }
}

bool SwitchDevice::probe(const Path& path) {
  void* buf = nullptr;
  if (posix_memalign(&buf, kPageBytes, kProbeBytes) != 0) return false;
  const ssize_t n = pread(path.fd(), buf, kProbeBytes, static_cast<off_t>(path.config().offset_bytes));
  std::free(buf);
  return n == static_cast<ssize_t>(kProbeBytes);
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
  auto table = load_table(config_, size_bytes);
  if (!table.ok()) return table.status();
  // Grow: the new table first, then the size. Shrink: the size first.
  if (size_bytes < size_bytes_.load()) size_bytes_.store(size_bytes, std::memory_order_release);
  table_->publish(std::move(table).value());
  size_bytes_.store(size_bytes, std::memory_order_release);
  return {};
}

Result<uint64_t> SwitchDevice::publish_table(std::unique_ptr<RegionTable> table) {
  std::lock_guard<std::mutex> lock(control_mutex_);
  const TableGeometry want = config_.geometry(size_bytes_.load());
  const TableGeometry& got = table->geometry();
  if (got.nr_paths != want.nr_paths || got.region_sectors != want.region_sectors ||
      got.nr_regions != want.nr_regions)
    return Status::error("table geometry (" + std::to_string(got.nr_paths) + " paths, " +
                         std::to_string(got.region_sectors) + "-sector regions, " + std::to_string(got.nr_regions) +
                         " regions) does not match the device (" + std::to_string(want.nr_paths) + ", " +
                         std::to_string(want.region_sectors) + ", " + std::to_string(want.nr_regions) + ")");
  return table_->publish(std::move(table));
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
  DeviceReport r{config_.source, config_.mode, engine_->kind(), engine_->nr_workers(), size_bytes_.load(),
                 table_->generation(), {}, busy_.load(std::memory_order_relaxed), zero_copy_.mapped(),
                 zero_copy_.mapped_nogup(), zero_copy_.copied(), zero_copy_.page_cache_pieces(),
                 zero_copy_.direct_refused(), buffer_faults_.load(std::memory_order_relaxed)};
  for (const auto& path : paths_) r.paths.push_back({path->config(), path->state(), path->direct(), path->stats()});
  return r;
}

RegionHistogram SwitchDevice::region_histogram() const {
  RegionHistogram h{bucket_shift_, std::vector<uint64_t>(kRegionBuckets)};
  for (size_t b = 0; b < kRegionBuckets; b++) h.ios[b] = region_ios_[b].load(std::memory_order_relaxed);
  return h;
}

}  // namespace tcmu_switch
