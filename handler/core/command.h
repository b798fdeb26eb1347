// Command: what a SwitchDevice keeps of one command in flight, from its
// first window to its completion. Private to the device (switch_device.cpp);
// the pool holds kCommandsPerQueueSlot per queue slot.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>

#include "buffer_kind.h"
#include "deadline.h"
#include "io_request.h"
#include "io_split.h"
#include "range_lock.h"
#include "switch_device.h"
#include "table_slot.h"

namespace tcmu_switch {

// A command goes to the paths in windows of at most the kernel's largest
// transfer, one after the other: a LUN can be sent more (LIO does not hold
// iSCSI initiators to the Block Limits page, and the runner hands over whole
// WRITE SAME and UNMAP ranges), and the pools are sized for one window.
struct Command {
  std::atomic<uint32_t> pending{0};  // pieces of the window not yet finished, + 1 while submitting
  IoGroup lane_group;                // the engine's count of the window's pieces on their lane
  std::atomic<IoStatus> status{IoStatus::kOk};
  void* user = nullptr;
  SwitchDevice* device = nullptr;
  RangeLock::Waiter range;  // owner: this command
  bool ordered = false;     // holds (or waits for) `range` in the device's RangeLock
  bool is_hold = false;     // a RangeHold: no I/O, granted wakes its caller
  std::atomic<bool> hold_granted{false};
  Deadline deadline;
  std::atomic<bool> timed_out{false};  // the deadline passed with work left: logged once, at the end
  uint64_t start_ms = 0;
  uint64_t first_offset = 0, total_len = 0;  // bytes, for the logs
  bool unmap_zeroes = false;                  // kUnmap: the range must read back as zeroes
  iovec* iov_scratch = nullptr;  // room for the window's iovec slices
  size_t iov_capacity = 0;
  // What the next windows carry.
  IoOp op = IoOp::kRead;
  int rw_flags = 0;
  BufferKind buffer = BufferKind::kCopied;
  // kMappedNoGup pages cannot be pinned: never O_DIRECT.
  bool page_cache() const { return buffer == BufferKind::kMappedNoGup; }
  uint64_t next_offset = 0;
  uint64_t remaining = 0;
  IovecCursor data{nullptr, 0};
  // The generation the first window routed in, while more windows follow:
  // every window of a command routes in one generation.
  TableSlot::Pin table;
};

}  // namespace tcmu_switch
