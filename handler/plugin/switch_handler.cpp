// handler_switch.so: the tcmu-runner plugin for `user:switch` LUNs.
//
// This file only translates. tcmu-runner's callouts become calls on a core
// SwitchDevice (handler/core), whose engine completes commands through
// tcmur_cmd_complete(): on the command thread when the paths finish at once,
// else from its worker threads. It shows, in order: the
// per-device state, logging, cfgstring checks, open/close, the CDB check, the
// I/O callouts, reconfig, and the handler table with handler_init.
//
// The handler runs with nr_threads = 0: callouts come from the runner's
// per-device command thread, submit their pieces and return without waiting
// for them (tcmu-runner-abi.md section 5.3).

#include <pthread.h>
#include <scsi/scsi.h>  // WRITE_10, WRITE_12 (scsi_defs.h has only WRITE_16)
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tcmu_api.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cdb_check.h"
#include "cfgstring.h"
#include "completion_gate.h"
#include "deadline.h"
#include "device_config.h"
#include "device_object.h"
#include "compare_and_write.h"
#include "extended_copy.h"
#include "inquiry_pages.h"
#include "lba_status.h"
#include "lun_facts.h"
#include "ring_residual.h"
#include "scsi_commands.h"
#include "sync_call.h"
#include "uring_setup.h"
#include "verify.h"
#include "switch_device.h"
#include "zero_copy.h"

namespace {

using tcmu_switch::DeviceConfig;
using tcmu_switch::IoStatus;
using tcmu_switch::LogLevel;
using tcmu_switch::Result;
using tcmu_switch::Status;

// ---- per-device state -------------------------------------------------------

class TcmuReporter final : public tcmu_switch::Reporter {
 public:
  explicit TcmuReporter(tcmu_device* dev) : dev_(dev) {}
  void report(LogLevel level, const std::string& message) noexcept override {
    switch (level) {
      case LogLevel::kError: tcmu_dev_err(dev_, "%s\n", message.c_str()); break;
      case LogLevel::kWarning: tcmu_dev_warn(dev_, "%s\n", message.c_str()); break;
      case LogLevel::kInfo: tcmu_dev_info(dev_, "%s\n", message.c_str()); break;
      case LogLevel::kDebug: tcmu_dev_dbg(dev_, "%s\n", message.c_str()); break;
    }
  }

 private:
  tcmu_device* dev_;
};

int to_tcmu_status(IoStatus status) {
  switch (status) {
    case IoStatus::kOk: return TCMU_STS_OK;
    case IoStatus::kBusy: return TCMU_STS_NO_RESOURCE;  // TASK SET FULL: the initiator retries
    case IoStatus::kReadError: return TCMU_STS_RD_ERR;
    case IoStatus::kWriteError: return TCMU_STS_WR_ERR;
    case IoStatus::kRange: return TCMU_STS_RANGE;
    case IoStatus::kHardwareError: return TCMU_STS_HW_ERR;
  }
  return TCMU_STS_HW_ERR;
}

using SyncIo = tcmu_switch::SyncCall<IoStatus>;

// Every tcmur_cmd_complete() of the plugin's goes through the gate
// (completion_gate.h): the runner writes the completion into the ring then.
class TcmuSink final : public tcmu_switch::CommandSink {
 public:
  TcmuSink(tcmu_device* dev, tcmu_switch::CompletionGate& gate) : dev_(dev), gate_(gate) {}
  void command_done(void* user, IoStatus status) noexcept override {
    if (SyncIo* call = SyncIo::from_user(user)) {  // the plugin's own I/O (COMPARE AND WRITE)
      call->complete(status);
      return;
    }
    const tcmu_switch::GatePass pass(gate_);
    tcmur_cmd_complete(dev_, user, to_tcmu_status(status));
  }

 private:
  tcmu_device* dev_;
  tcmu_switch::CompletionGate& gate_;
};

bool completion_landed(const void* mailbox, uint32_t entry) {
  return tcmu_switch::ring::completion_landed(static_cast<const uint8_t*>(mailbox), entry);
}

// The LUN's cmd_time_out, read from configfs at open and again at most once a
// second from the command thread: the kernel lets it change only while the
// LUN is not exported, and the handler hears of no such change.
class CommandBudget {
 public:
  uint64_t budget_ms(tcmu_device* dev, uint64_t now_ms) noexcept {
    if (now_ms - read_ms_.load(std::memory_order_relaxed) >= kRereadMs) {
      read_ms_.store(now_ms, std::memory_order_relaxed);
      const int seconds = tcmu_cfgfs_dev_get_attr_int(dev, "cmd_time_out");
      // 0 turns the kernel's timeout off; an unreadable value leaves the last one.
      if (seconds >= 0)
        budget_ms_.store(seconds == 0 ? 0 : tcmu_switch::command_budget_ms(uint64_t{1000} * seconds),
                         std::memory_order_relaxed);
    }
    return budget_ms_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint64_t kRereadMs = 1000;
  std::atomic<uint64_t> read_ms_{0};
  std::atomic<uint64_t> budget_ms_{0};
};

struct SwitchState {
  SwitchState(tcmu_device* dev, uint8_t* mailbox_)
      : reporter(dev),
        mailbox(mailbox_),
        gate(completion_landed, mailbox_),
        sink(dev, gate),
        marks_residuals(mailbox_ != nullptr && tcmu_switch::ring::reports_read_len(mailbox_)),
        write_same_start_ms(new std::atomic<uint64_t>[kNrCmdIds]) {}
  // The kernel numbers the commands in its ring with 16 bits.
  static constexpr size_t kNrCmdIds = 65536;
  TcmuReporter reporter;
  uint8_t* mailbox;  // the start of the UIO map: the mailbox, then the command ring
  tcmu_switch::CompletionGate gate;
  TcmuSink sink;
  // Whether answers shorter than the initiator's buffer report a residual
  // (ring_residual.h): the kernel takes READ_LEN, and no EXTENDED COPY
  // naming another LUN came (completion_gate.h). The command thread's.
  bool marks_residuals;
  CommandBudget budget;
  tcmu_switch::ZeroCopyWindow zero_copy;  // counts each read and write by where its data is
  // When each WRITE SAME the runner emulates (one write() per MiB) began.
  std::unique_ptr<std::atomic<uint64_t>[]> write_same_start_ms;
  std::unique_ptr<tcmu_switch::SwitchDevice> device;
  std::unique_ptr<tcmu_switch::control::DeviceObject> control;  // null without a system bus; goes before device
  // What the handler's SCSI answers say that does not change (lun_facts()).
  std::string unit_serial;
  tcmu_switch::LunFacts fixed_facts;
  // COMPARE AND WRITE's and VERIFY's data (Slots): commands come one at a
  // time from the command thread.
  std::unique_ptr<uint8_t, decltype(&std::free)> caw_buffer{nullptr, &std::free};
  size_t caw_slot_bytes = 0;
};

SwitchState* state_of(tcmu_device* dev) { return static_cast<SwitchState*>(tcmur_dev_get_private(dev)); }

// tcmu-runner pthread_cancel()s the command thread when a device goes away; a
// cancellation point inside a noexcept callout would terminate the process.
class NoCancel {
 public:
  NoCancel() { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old_); }
  ~NoCancel() { pthread_setcancelstate(old_, nullptr); }

 private:
  int old_ = 0;
};

// ---- configuration ------------------------------------------------------------

Result<DeviceConfig> load_config_for(const char* cfgstring) {
  auto path = tcmu_switch::config_path_from_cfgstring(cfgstring);
  if (!path.ok()) return path.status();
  return tcmu_switch::load_device_config(path.value());
}

char* malloc_copy(const std::string& s) { return strdup(s.c_str()); }  // the runner free()s it

bool switch_check_config(const char* cfgstring, char** reason) noexcept {
  try {
    auto config = load_config_for(cfgstring);
    if (config.ok()) return true;
    if (reason != nullptr) *reason = malloc_copy(config.status().message());
  } catch (...) {
    if (reason != nullptr) *reason = malloc_copy("out of memory");
  }
  return false;
}

// ---- open / close ---------------------------------------------------------------

struct UioMap {
  void* base = nullptr;
  size_t len = 0;
};

UioMap uio_map_of(tcmu_device* dev) {
  UioMap map;
  off_t offset = 0;
  char* name = tcmu_dev_get_memory_info(dev, &map.base, &map.len, &offset);
  std::free(name);  // the runner's own malloc'd copy
  return map;
}

Status check_block_geometry(const DeviceConfig& config, uint32_t block_size) {
  if ((config.region_sectors * tcmu_switch::kSectorBytes) % block_size != 0)
    return Status::error("region of " + std::to_string(config.region_sectors) +
                         " sectors is not a multiple of the block size " + std::to_string(block_size));
  return {};
}

// The runner's chunk size and the largest UNMAP descriptor it accepts
// (MAXIMUM UNMAP LBA COUNT, tcmur_cmd_handler.c:416). An unmap moves no data,
// but where zeroes are owed (LBPRZ, WRITE SAME with UNMAP) and a path cannot
// deallocate, the device writes them, at the speed of the slowest path:
// 64 MiB is under a second on a disk and a few seconds on a RAM disk under
// emulation, well inside the 30 s cmd_time_out, where 1 GiB was not. Linux
// splits a discard into commands of this size.
constexpr uint64_t kMaxUnmapBytes = uint64_t{64} << 20;
// The UNMAP descriptors the runner takes in one command
// (VPD_MAX_UNMAP_BLOCK_DESC_COUNT, tcmur_cmd_handler.c:547).
constexpr uint32_t kMaxUnmapDescriptors = 4;

// The device splits every UNMAP at region boundaries itself, so the runner
// hands over each UNMAP descriptor and each WRITE SAME with UNMAP whole, in
// chunks of max_unmap_len (split = false, tcmur_cmd_handler.c:301-306). With
// split = true it queued one sub-command per region: a 65536-block WRITE SAME
// with UNMAP ran the command pool dry and got TASK SET FULL. The region still
// goes into the Block Limits VPD page as the optimal granularity.
void advertise_unmap(tcmu_device* dev, const DeviceConfig& config, uint32_t block_size) {
  const auto region_blocks = static_cast<uint32_t>(config.region_sectors * tcmu_switch::kSectorBytes / block_size);
  tcmu_dev_set_opt_unmap_gran(dev, region_blocks, false);
  // tcmu-runner takes the alignment as a modulus for WRITE SAME with UNMAP
  // (tcmur_cmd_handler.c:683-692; a misaligned one is written with zeroes
  // instead): 0 made it divide by zero and kill the runner (SIGFPE, seen
  // under iscsi-test-cu). Region-sized when that is a power of two, else 1,
  // as when the runner also used it as a split mask (line 325): 1 lets every
  // WRITE SAME with UNMAP of an odd-sized region still unmap.
  const bool pow2 = (region_blocks & (region_blocks - 1)) == 0;
  tcmu_dev_set_unmap_gran_align(dev, pow2 ? region_blocks : 1);
  tcmu_dev_set_max_unmap_len(dev, static_cast<uint32_t>(kMaxUnmapBytes / block_size));
}

// What the handler's own SCSI answers say (scsi_commands.h) that stays fixed
// while the LUN is open, and COMPARE AND WRITE's buffer for its limit.
void learn_lun_facts(tcmu_device* dev, SwitchState& state, uint32_t block_size) {
  char* wwn = tcmu_cfgfs_dev_get_wwn(dev);  // the runner's malloc'd copy; null if configfs has none
  state.unit_serial = wwn != nullptr ? wwn : "";
  std::free(wwn);
  tcmu_switch::LunFacts& f = state.fixed_facts;
  f.unit_serial = state.unit_serial;
  f.block_bytes = block_size;
  f.max_xfer_blocks = tcmu_dev_get_max_xfer_len(dev);
  f.optimal_granularity_blocks = tcmu_dev_get_opt_unmap_gran(dev);
  f.unmap_alignment_blocks = tcmu_dev_get_unmap_gran_align(dev);
  f.max_unmap_blocks = tcmu_dev_get_max_unmap_len(dev);
  f.max_unmap_descriptors = kMaxUnmapDescriptors;
  f.max_write_same_blocks = kMaxUnmapBytes / block_size;  // as long as an UNMAP: the same zeroes to write
  f.max_compare_and_write_blocks = tcmu_switch::compare_and_write_limit(f.max_xfer_blocks);
  const int timeout_s = tcmu_cfgfs_dev_get_attr_int(dev, "cmd_time_out");
  if (timeout_s >= 0) f.command_timeout_s = static_cast<uint32_t>(timeout_s);
  // At least a block: VERIFY reads a slot at a time.
  const size_t slot_blocks = std::max<size_t>(f.max_compare_and_write_blocks, 1);
  state.caw_slot_bytes = (slot_blocks * block_size + 4095) / 4096 * 4096;
  state.caw_buffer.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, 3 * state.caw_slot_bytes)));
  if (state.caw_buffer == nullptr) throw std::bad_alloc();
}

// The LUN's hw_queue_depth (configfs): the commands LIO keeps in flight on it,
// which the device's pools are sized for. Unreadable: LIO's default for
// TCMU, said in the log.
uint32_t lun_queue_depth(tcmu_device* dev) {
  constexpr uint32_t kLioDefaultDepth = 128;
  const int depth = tcmu_cfgfs_dev_get_attr_int(dev, "hw_queue_depth");
  if (depth > 0) return static_cast<uint32_t>(depth);
  tcmu_dev_warn(dev, "hw_queue_depth unreadable (%d): pools sized for %u commands\n", depth, kLioDefaultDepth);
  return kLioDefaultDepth;
}

// The probe takes the map's first page, the mailbox, which is always there:
// a data-area page exists only while a command holds it, and the kernel's
// answer is for the whole mapping.
void report_fixed_buffers(tcmu_switch::Reporter& reporter, const UioMap& map) {
  const int rc = tcmu_switch::probe_buffer_registration(map.base, static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  reporter.report(LogLevel::kInfo, tcmu_switch::fixed_buffer_verdict(rc));
}

int switch_open(tcmu_device* dev, bool reopen) noexcept {
  try {
    const UioMap map = uio_map_of(dev);
    auto state = std::make_unique<SwitchState>(dev, static_cast<uint8_t*>(map.base));
    auto config = load_config_for(tcmu_dev_get_cfgstring(dev));
    const uint32_t block_size = tcmu_dev_get_block_size(dev);
    Status s = config.ok() ? check_block_geometry(config.value(), block_size) : config.status();
    if (!s.ok()) {
      tcmu_dev_err(dev, "%s\n", s.message().c_str());
      return -EINVAL;
    }
    tcmu_switch::DeviceLimits limits;
    limits.size_bytes = tcmu_dev_get_num_lbas(dev) * block_size;
    limits.max_xfer_bytes = uint64_t{tcmu_dev_get_max_xfer_len(dev)} * block_size;
    limits.block_bytes = block_size;
    limits.queue_depth = lun_queue_depth(dev);
    auto device = tcmu_switch::SwitchDevice::open(config.value(), limits, state->sink, state->reporter);
    if (!device.ok()) {
      tcmu_dev_err(dev, "%s\n", device.status().message().c_str());
      return -EINVAL;
    }
    state->device = std::move(device).value();
    const uint64_t budget_ms = state->budget.budget_ms(dev, tcmu_switch::monotonic_ms());
    tcmu_dev_info(dev, "commands stop issuing after %llu ms (cmd_time_out less a quarter; 0: never); %s\n",
                  static_cast<unsigned long long>(budget_ms),
                  state->device->unmap_reads_zero()
                      ? "LBPRZ: every path deallocates to zeroes"
                      : "no LBPRZ: a path cannot deallocate to zeroes, UNMAP leaves its data there");
    state->zero_copy.attach(map.base, map.len);  // a patched kernel's UIO map may offer zero copy
    state->control = tcmu_switch::control::export_device(tcmu_dev_get_uio_name(dev), *state->device, state->reporter,
                                                         &state->zero_copy);
    state->reporter.report(LogLevel::kInfo, state->zero_copy.describe());
    report_fixed_buffers(state->reporter, map);
    advertise_unmap(dev, config.value(), block_size);
    learn_lun_facts(dev, *state, block_size);
    // Durability then comes from SYNCHRONIZE CACHE, which reaches every path.
    tcmu_dev_set_write_cache_enabled(dev, true);
    tcmur_dev_set_private(dev, state.release());
    if (reopen) tcmu_dev_info(dev, "reopened\n");
    return 0;
  } catch (const std::exception& e) {
    tcmu_dev_err(dev, "open failed: %s\n", e.what());
    return -ENOMEM;
  }
}

void switch_close(tcmu_device* dev) noexcept {
  SwitchState* state = state_of(dev);
  try {
    const tcmu_switch::DeviceReport r = state->device->report();
    state->reporter.report(LogLevel::kInfo, state->zero_copy.tally(r.page_cache_pieces, r.mapped_direct_refused));
  } catch (...) {  // out of memory for the line: closing matters more
  }
  delete state;  // the runner has drained every command
  tcmur_dev_set_private(dev, nullptr);
}

// ---- the CDB check -----------------------------------------------------------------

// The runner tries handle_cmd first on every command and goes on with its own
// handling on TCMU_STS_NOT_HANDLED (tcmur_cmd_handler.c:2289-2307, 2390); any
// other status completes the command at once, which keeps this callout
// synchronous (an async handle_cmd is broken in 1.5.4). It refuses what the
// runner's emulation would wrongly execute (cdb_check.h) and answers the
// commands of scsi_commands.h itself. The runner has reported any pending
// unit attention before it calls handle_cmd.
int answer_scsi(tcmu_device* dev, tcmur_cmd* cmd, std::span<const uint8_t> cdb);
int check_condition(tcmulib_cmd* lib, const tcmu_switch::Sense& sense);

int switch_handle_cmd(tcmu_device* dev, tcmur_cmd* cmd) noexcept {
  NoCancel no_cancel;  // the log may write()
  uint8_t* cdb = cmd->lib_cmd->cdb;
  // libtcmu copied exactly this many bytes from the ring and dropped the
  // commands whose length it could not tell (libtcmu.c:1139-1168).
  const int cdb_len = tcmu_cdb_get_length(cdb);
  const std::span<const uint8_t> cdb_bytes{cdb, cdb_len > 0 ? static_cast<size_t>(cdb_len) : 0};
  const tcmu_switch::CdbVerdict verdict = tcmu_switch::check_cdb(cdb_bytes);
  if (!verdict.passes()) {
    tcmu_dev_dbg(dev, "opcode 0x%02x: %s is set: INVALID FIELD IN CDB\n", cdb[0], verdict.invalid_field);
    return check_condition(cmd->lib_cmd, tcmu_switch::invalid_field_in_cdb(verdict.byte, verdict.bit));
  }
  return answer_scsi(dev, cmd, cdb_bytes);
}

// ---- the I/O callouts -------------------------------------------------------------

// WRITE(10/12/16) carry FUA in byte 1, bit 3; tcmu-runner itself ignores it.
bool has_fua(const tcmur_cmd* cmd) {
  const uint8_t* cdb = cmd->lib_cmd->cdb;
  const bool write_10_12_16 = cdb[0] == WRITE_10 || cdb[0] == WRITE_12 || cdb[0] == WRITE_16;
  return write_10_12_16 && (cdb[1] & 0x08) != 0;
}

bool is_write_same(const tcmur_cmd* cmd) {
  const uint8_t opcode = cmd->lib_cmd->cdb[0];
  return opcode == WRITE_SAME || opcode == WRITE_SAME_16;
}

// When the command must stop issuing work: its share of cmd_time_out from
// now. The runner emulates WRITE SAME with one write() after another, each
// sent when the last completes; their budget is the command's, counted from
// its first write (the one at the CDB's LBA).
tcmu_switch::Deadline deadline_for(tcmu_device* dev, SwitchState& state, const tcmur_cmd* cmd, uint64_t off) {
  const uint64_t now_ms = tcmu_switch::monotonic_ms();
  const uint64_t budget_ms = state.budget.budget_ms(dev, now_ms);
  if (budget_ms == 0) return {};
  uint64_t start_ms = now_ms;
  if (is_write_same(cmd)) {
    std::atomic<uint64_t>& first = state.write_same_start_ms[cmd->lib_cmd->cmd_id];
    if (off == tcmu_cdb_get_lba(cmd->lib_cmd->cdb) * tcmu_dev_get_block_size(dev)) {
      first.store(now_ms, std::memory_order_relaxed);
    } else {
      start_ms = first.load(std::memory_order_relaxed);
    }
  }
  return tcmu_switch::Deadline::after(start_ms, budget_ms);
}

int switch_read(tcmu_device* dev, tcmur_cmd* cmd, iovec* iov, size_t iov_cnt, size_t len, off_t off) noexcept {
  NoCancel no_cancel;
  SwitchState& state = *state_of(dev);
  const auto offset = static_cast<uint64_t>(off);
  const tcmu_switch::BufferKind buffer = state.zero_copy.count(iov, iov_cnt);
  // OK means queued: the runner then waits for tcmur_cmd_complete().
  return to_tcmu_status(
      state.device->read(cmd, iov, iov_cnt, offset, len, deadline_for(dev, state, cmd, offset), buffer));
}

int switch_write(tcmu_device* dev, tcmur_cmd* cmd, iovec* iov, size_t iov_cnt, size_t len, off_t off) noexcept {
  NoCancel no_cancel;
  SwitchState& state = *state_of(dev);
  const auto offset = static_cast<uint64_t>(off);
  const tcmu_switch::BufferKind buffer = state.zero_copy.count(iov, iov_cnt);
  return to_tcmu_status(state.device->write(cmd, iov, iov_cnt, offset, len, has_fua(cmd),
                                            deadline_for(dev, state, cmd, offset), buffer));
}

int switch_flush(tcmu_device* dev, tcmur_cmd* cmd) noexcept {
  NoCancel no_cancel;
  return to_tcmu_status(state_of(dev)->device->flush(cmd));
}

int switch_unmap(tcmu_device* dev, tcmur_cmd* cmd, uint64_t off, uint64_t len) noexcept {
  NoCancel no_cancel;
  SwitchState& state = *state_of(dev);
  // The runner calls this for UNMAP and for WRITE SAME with UNMAP: the
  // latter's blocks must read back as its data (zeroes), the former's only
  // if the LUN claimed LBPRZ.
  const bool zeroes = is_write_same(cmd) || state.device->unmap_reads_zero();
  return to_tcmu_status(state.device->unmap(cmd, off, len, zeroes, deadline_for(dev, state, cmd, off)));
}

// ---- reconfig: the live reload channel ----------------------------------------------

Status reconfigure(tcmu_device* dev, SwitchState& state, const tcmulib_cfg_info& cfg) {
  switch (cfg.type) {
    case TCMULIB_CFG_DEV_CFGSTR: {
      auto config = load_config_for(cfg.data.dev_cfgstring);
      if (!config.ok()) return config.status();
      return state.device->reload(config.value());
    }
    case TCMULIB_CFG_DEV_SIZE:
      return state.device->resize(cfg.data.dev_size);
    case TCMULIB_CFG_WRITE_CACHE:
      tcmu_dev_set_write_cache_enabled(dev, cfg.data.write_cache);
      return {};
  }
  return Status::error("unknown reconfig type " + std::to_string(static_cast<int>(cfg.type)));
}

int switch_reconfig(tcmu_device* dev, tcmulib_cfg_info* cfg) noexcept {
  try {
    Status s = reconfigure(dev, *state_of(dev), *cfg);
    if (s.ok()) return 0;
    tcmu_dev_err(dev, "reconfig refused, nothing changed: %s\n", s.message().c_str());
    return -EINVAL;
  } catch (const std::exception& e) {
    tcmu_dev_err(dev, "reconfig failed, nothing changed: %s\n", e.what());
    return -ENOMEM;
  }
}

// ---- the commands the handler answers itself ---------------------------------------------

// LunFacts as of now: the size and the cache setting may change by reconfig
// (the runner's main thread), the rest was learnt at open.
tcmu_switch::LunFacts lun_facts(tcmu_device* dev, const SwitchState& state) {
  tcmu_switch::LunFacts f = state.fixed_facts;
  f.nr_blocks = tcmu_dev_get_num_lbas(dev);
  f.write_cache = tcmu_dev_get_write_cache_enabled(dev);
  f.lbprz = state.device->unmap_reads_zero();
  return f;
}

int check_condition(tcmulib_cmd* lib, const tcmu_switch::Sense& sense) {
  const auto bytes = tcmu_switch::fixed_sense(sense);
  std::memset(lib->sense_buf, 0, sizeof(lib->sense_buf));
  std::memcpy(lib->sense_buf, bytes.data(), bytes.size());
  return TCMU_STS_PASSTHROUGH_ERR;  // libtcmu sends sense_buf as it is
}

// A copy of the Data-Out buffer, the iovecs left as they were: the runner
// may still read them.
std::vector<uint8_t> data_out_of(const tcmulib_cmd* lib) {
  std::vector<uint8_t> data;
  for (size_t i = 0; i < lib->iov_cnt; i++) {
    const auto* base = static_cast<const uint8_t*>(lib->iovec[i].iov_base);
    data.insert(data.end(), base, base + lib->iovec[i].iov_len);
  }
  return data;
}

// Makes the completion of the command being answered report `returned`
// bytes of Data-In, so that the initiator sees the residual, as from LIO's own
// backstores. The gate stays closed from before the entry is found until the
// runner has written this command's completion into it, right after
// handle_cmd returns (completion_gate.h).
void report_residual(SwitchState& state, size_t returned) {
  state.gate.close();
  const std::optional<uint32_t> entry = tcmu_switch::ring::next_completion_entry(state.mailbox);
  if (!entry) {  // the command being answered is in the ring: not seen
    state.gate.open();
    state.reporter.report(LogLevel::kWarning, "no command entry at the ring's tail: residual not reported");
    return;
  }
  tcmu_switch::ring::mark_read_len(state.mailbox, *entry, static_cast<uint32_t>(returned));
  state.gate.hold(*entry);
}

// An answer of the handler's own: CHECK CONDITION, or its Data-In copied
// into the initiator's buffer.
int send_answer(SwitchState& state, tcmulib_cmd* lib, const tcmu_switch::ScsiAnswer& answer) {
  if (!answer.good()) return check_condition(lib, *answer.sense);
  if (answer.data.empty()) return TCMU_STS_OK;
  // Before the copy, which moves the iovecs past what it wrote.
  const size_t buffer_bytes = tcmu_iovec_length(lib->iovec, lib->iov_cnt);
  // Zeroes after the data where no residual can be reported: no stale ring bytes.
  tcmu_iovec_zero(lib->iovec, lib->iov_cnt);
  tcmu_memcpy_into_iovec(lib->iovec, lib->iov_cnt, const_cast<uint8_t*>(answer.data.data()), answer.data.size());
  if (state.marks_residuals && answer.data.size() < buffer_bytes) report_residual(state, answer.data.size());
  return TCMU_STS_OK;
}

int answer_from_facts(tcmu_device* dev, tcmulib_cmd* lib, std::span<const uint8_t> cdb) {
  SwitchState& state = *state_of(dev);
  std::vector<uint8_t> data_out;
  if (tcmu_switch::reads_data_out(cdb)) data_out = data_out_of(lib);
  return send_answer(state, lib, tcmu_switch::answer_from_facts(cdb, data_out, lun_facts(dev, state)));
}

int get_lba_status(tcmu_device* dev, tcmulib_cmd* lib, std::span<const uint8_t> cdb) {
  SwitchState& state = *state_of(dev);
  const tcmu_switch::LunFacts facts = lun_facts(dev, state);
  const uint64_t block = facts.block_bytes;
  const tcmu_switch::LbaStatusSource status = [&](uint64_t lba, uint64_t max_blocks) {
    const tcmu_switch::ExtentStatus run = state.device->extent_status(lba * block, max_blocks * block);
    return tcmu_switch::LbaRun{run.len / block, run.mapped};
  };
  return send_answer(state, lib, tcmu_switch::answer_get_lba_status(cdb, facts, status));
}

// One command of the plugin's own (COMPARE AND WRITE, VERIFY), sent to the
// device and waited for.
template <typename Send>
IoStatus run_sync(Send send) {
  SyncIo call;
  const IoStatus queued = send(call.user());
  return queued == IoStatus::kOk ? call.wait() : queued;
}

IoStatus read_sync(SwitchState& state, uint8_t* buf, uint64_t off, size_t len, tcmu_switch::Deadline deadline) {
  const iovec iov{buf, len};
  return run_sync([&](void* user) { return state.device->read(user, &iov, 1, off, len, deadline); });
}

// The plugin's buffer: three block-aligned slots of caw_slot_bytes, for the
// data to compare, the data to write and what the paths hold.
struct Slots {
  uint8_t* expected;
  uint8_t* write;
  uint8_t* found;
};
Slots slots_of(SwitchState& state) {
  uint8_t* base = state.caw_buffer.get();
  return {base, base + state.caw_slot_bytes, base + 2 * state.caw_slot_bytes};
}

// Reads the range, compares it with the verify data and, if equal, writes
// the write data, all while holding the range against every overlapping
// write-class command (SwitchDevice::hold_range). The command thread waits
// for both: handle_cmd cannot complete later.
int compare_and_write(tcmu_device* dev, tcmur_cmd* cmd, std::span<const uint8_t> cdb) {
  SwitchState& state = *state_of(dev);
  tcmulib_cmd* lib = cmd->lib_cmd;
  const tcmu_switch::LunFacts facts = lun_facts(dev, state);
  const tcmu_switch::CompareAndWrite caw =
      tcmu_switch::parse_compare_and_write(cdb, tcmu_iovec_length(lib->iovec, lib->iov_cnt), facts);
  if (caw.sense) return check_condition(lib, *caw.sense);
  if (caw.nr_blocks == 0) return TCMU_STS_OK;
  const size_t len = size_t{caw.nr_blocks} * facts.block_bytes;
  const uint64_t off = caw.lba * facts.block_bytes;
  const Slots slot = slots_of(state);
  tcmu_memcpy_from_iovec(slot.expected, len, lib->iovec, lib->iov_cnt);
  tcmu_memcpy_from_iovec(slot.write, len, lib->iovec, lib->iov_cnt);  // the iovec moved on past the verify data
  const tcmu_switch::Deadline deadline = deadline_for(dev, state, cmd, off);
  tcmu_switch::RangeHold hold;
  if (!state.device->hold_range(off, len, hold)) return TCMU_STS_NO_RESOURCE;
  IoStatus s = read_sync(state, slot.found, off, len, deadline);
  std::optional<uint32_t> differs;
  if (s == IoStatus::kOk) differs = tcmu_switch::first_difference({slot.expected, len}, {slot.found, len});
  if (s == IoStatus::kOk && !differs) {
    const iovec write_iov{slot.write, len};
    s = run_sync([&](void* user) {
      return state.device->write(user, &write_iov, 1, off, len, caw.fua, deadline,
                                 tcmu_switch::BufferKind::kCopied, &hold);
    });
  }
  state.device->release_hold(hold);
  if (s != IoStatus::kOk) return to_tcmu_status(s);
  if (differs) return check_condition(lib, tcmu_switch::miscompare(*differs));
  return TCMU_STS_OK;
}

// Reads the range a slot at a time and compares each piece with the Data-Out
// blocks (BYTCHK 01b) or with the one Data-Out block (11b).
int verify(tcmu_device* dev, tcmur_cmd* cmd, std::span<const uint8_t> cdb) {
  SwitchState& state = *state_of(dev);
  tcmulib_cmd* lib = cmd->lib_cmd;
  const tcmu_switch::LunFacts facts = lun_facts(dev, state);
  const tcmu_switch::Verify v = tcmu_switch::parse_verify(cdb, tcmu_iovec_length(lib->iovec, lib->iov_cnt), facts);
  if (v.sense) return check_condition(lib, *v.sense);
  if (v.nr_blocks == 0 || v.bytchk == tcmu_switch::ByteCheck::kNone) return TCMU_STS_OK;
  const Slots slot = slots_of(state);
  const size_t block = facts.block_bytes;
  const bool one_block = v.bytchk == tcmu_switch::ByteCheck::kOneBlock;
  if (one_block) tcmu_memcpy_from_iovec(slot.expected, block, lib->iovec, lib->iov_cnt);
  const uint64_t start = v.lba * block, end = start + uint64_t{v.nr_blocks} * block;
  const tcmu_switch::Deadline deadline = deadline_for(dev, state, cmd, start);
  const size_t chunk = state.caw_slot_bytes / block * block;
  for (uint64_t off = start; off < end; off += chunk) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(chunk, end - off));
    if (const IoStatus s = read_sync(state, slot.found, off, len, deadline); s != IoStatus::kOk)
      return to_tcmu_status(s);
    std::optional<uint32_t> differs;
    if (one_block) {
      differs = tcmu_switch::first_difference_repeated({slot.expected, block}, {slot.found, len});
    } else {
      tcmu_memcpy_from_iovec(slot.expected, len, lib->iovec, lib->iov_cnt);  // the next Data-Out blocks
      differs = tcmu_switch::first_difference({slot.expected, len}, {slot.found, len});
    }
    if (differs) return check_condition(lib, tcmu_switch::miscompare(static_cast<uint32_t>(off - start) + *differs));
  }
  return TCMU_STS_OK;
}

// A CHECK CONDITION when `sense` is set, else on to tcmu-runner.
int refuse_or_pass_on(tcmur_cmd* cmd, const std::optional<tcmu_switch::Sense>& sense) {
  return sense ? check_condition(cmd->lib_cmd, *sense) : TCMU_STS_NOT_HANDLED;
}

// The runner copies. A copy naming another LUN is completed from that LUN's
// thread, which the plugin cannot hold back: no residual is reported on this
// LUN from then on (completion_gate.h).
int pass_on_extended_copy(tcmu_device* dev, tcmur_cmd* cmd, std::span<const uint8_t> cdb) {
  SwitchState& state = *state_of(dev);
  const std::vector<uint8_t> list = data_out_of(cmd->lib_cmd);
  if (list.empty()) return TCMU_STS_OK;  // no descriptors: nothing to copy
  if (const auto sense = tcmu_switch::check_extended_copy(cdb, list)) return check_condition(cmd->lib_cmd, *sense);
  if (state.marks_residuals && !tcmu_switch::copies_within(cdb, list, tcmu_switch::naa_6h(state.unit_serial))) {
    state.marks_residuals = false;
    tcmu_dev_info(dev, "EXTENDED COPY names another LUN: short INQUIRY/MODE SENSE answers report no residual "
                       "from now on (the runner completes that copy on a thread the handler cannot hold back)\n");
  }
  return TCMU_STS_NOT_HANDLED;
}

int answer_scsi(tcmu_device* dev, tcmur_cmd* cmd, std::span<const uint8_t> cdb) {
  try {
    switch (tcmu_switch::classify(cdb)) {
      case tcmu_switch::HandlerCommand::kPassOn: return TCMU_STS_NOT_HANDLED;
      case tcmu_switch::HandlerCommand::kFromFacts: return answer_from_facts(dev, cmd->lib_cmd, cdb);
      case tcmu_switch::HandlerCommand::kCompareAndWrite: return compare_and_write(dev, cmd, cdb);
      case tcmu_switch::HandlerCommand::kVerify: return verify(dev, cmd, cdb);
      case tcmu_switch::HandlerCommand::kGetLbaStatus: return get_lba_status(dev, cmd->lib_cmd, cdb);
      case tcmu_switch::HandlerCommand::kWriteSame:
        return refuse_or_pass_on(cmd, tcmu_switch::write_same_beyond_limit(cdb, lun_facts(dev, *state_of(dev))));
      case tcmu_switch::HandlerCommand::kExtendedCopy: return pass_on_extended_copy(dev, cmd, cdb);
      case tcmu_switch::HandlerCommand::kSyncCache:
        return refuse_or_pass_on(cmd, tcmu_switch::sync_cache_out_of_range(cdb, lun_facts(dev, *state_of(dev))));
    }
  } catch (const std::bad_alloc&) {
    return TCMU_STS_NO_RESOURCE;
  }
  return TCMU_STS_NOT_HANDLED;
}

// ---- the handler table ----------------------------------------------------------------

// targetcli prints this under `help create` and prepends "switch/" to the
// cfgstring it is given, so the text names only what the admin types.
constexpr char kCfgDesc[] =
    "cfgstring=<absolute path of a device config file>, e.g. cfgstring=/etc/tcmu-switch/lun0.conf "
    "(targetcli adds the \"switch/\" prefix; in configfs dev_config it is switch/<path>). tcmu-runner "
    "options such as ;tcmur_cmd_time_out=N may follow the path. The file (GLib key file) names "
    "region_sectors, mode (placement|multipath), an optional table (dm-switch set_region_mappings text "
    "or a switchtab binary), default (round-robin|path:N), engine (auto|io_uring|sync) and one "
    "[path.N] group per backend with device= and offset=. Examples: config/ in the tcmu-switch "
    "source tree.";

tcmur_handler switch_handler;

}  // namespace

// Entry point must be named "handler_init".
extern "C" __attribute__((visibility("default"))) int handler_init(void) {
  // Field by field: C++ designated initializers must follow declaration order
  // and the struct has many fields we leave zero.
  switch_handler.name = "Region switch over N backend paths (tcmu-switch)";
  switch_handler.subtype = tcmu_switch::kSubtype.data();
  switch_handler.cfg_desc = kCfgDesc;
  switch_handler.check_config = switch_check_config;
  switch_handler.reconfig = switch_reconfig;
  switch_handler.open = switch_open;
  switch_handler.close = switch_close;
  switch_handler.nr_threads = 0;
  switch_handler.handle_cmd = switch_handle_cmd;
  switch_handler.read = switch_read;
  switch_handler.write = switch_write;
  switch_handler.flush = switch_flush;
  switch_handler.unmap = switch_unmap;
  return tcmur_register_handler(&switch_handler);
}
