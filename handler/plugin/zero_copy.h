// ZeroCopyWindow: what the handler knows of kmod-patches' zero-copy mode.
//
// A patched target_core_user sets TCMU_MAILBOX_FLAG_CAP_ZC in the mailbox and
// describes, in mailbox bytes 16..63 (unused by the stock kernel, so zero
// there), a window at the end of the UIO map where it maps a command's own
// pages instead of copying them into the data area. The handler cannot see a
// command's kernel flags (libtcmu drops them), so it classifies a buffer by its
// address: in the refcounted part of the window (O_DIRECT works), in the
// no-GUP part (special PTEs from tcm_loop: GUP refuses them with EEXIST, so the
// device sends these commands through the page cache from the start), or in
// the data area (copied).
// Stock kernels never set the flag: everything counts as copied.
//
// The plugin classifies and counts each command in its callouts and tells the
// device the kind (core/buffer_kind.h); the device counts the pieces that only
// it sees (sent through the page cache, refused by O_DIRECT).
//
// The kernel sends zero-copy iovecs only to a handler that says it understands
// them: attach() writes the handler's capabilities into the mailbox (the kernel
// clears them whenever the device node is opened, so a runner that does not
// know zero copy never receives a window address).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "buffer_kind.h"
#include "counter_source.h"

namespace tcmu_switch {

// Mailbox layout added by kmod-patches (see kmod-patches/ and its UAPI patch).
namespace zc_mailbox {
inline constexpr size_t kFlagsOffset = 2;          // __u16 flags
inline constexpr uint16_t kCapZeroCopy = 1u << 4;  // TCMU_MAILBOX_FLAG_CAP_ZC
inline constexpr size_t kWindowOffset = 16;        // __u64 zc_off: from the mailbox
inline constexpr size_t kWindowSize = 24;          // __u64 zc_size
inline constexpr size_t kNoGupOffset = 32;         // __u64 zc_nogup_off: no-GUP slots from here to the end
inline constexpr size_t kSlotSize = 40;            // __u32 zc_slot_size
inline constexpr size_t kMinLen = 44;              // __u32 zc_min_len
inline constexpr size_t kZcFlags = 48;             // __u32 zc_flags: bit 0 on, bit 1 raw READs, bit 2 no-GUP on
inline constexpr size_t kHandlerCaps = 52;         // __u32 zc_handler_caps: written by the handler
inline constexpr uint32_t kHandlerZeroCopy = 1u << 0;  // TCMU_ZC_HANDLER_ZC: window iovecs understood
inline constexpr uint32_t kHandlerNoGup = 1u << 1;     // TCMU_ZC_HANDLER_NOGUP: no-GUP slots never go O_DIRECT
inline constexpr size_t kMailboxBytes = 64;        // what we read
}  // namespace zc_mailbox

class ZeroCopyWindow final : public CounterSource {
 public:
  using BufferKind = tcmu_switch::BufferKind;

  // Reads the mailbox at the start of the UIO map of map_len bytes and, when
  // the kernel offers a window, opts in to it. A window that does not fit
  // inside the map is ignored (and described as such), and not opted in to.
  void attach(void* mailbox, size_t map_len);

  bool present() const { return present_; }
  BufferKind classify(const void* buffer) const noexcept;
  // Counts one command by its first buffer (a zero-copy command has exactly
  // one) and returns that buffer's kind.
  BufferKind count(const iovec* iov, size_t iov_cnt) noexcept;
  std::string describe() const;
  // The command counters in one line, with the device's piece counters
  // (DeviceReport::page_cache_pieces, mapped_direct_refused), for the log
  // when the device closes.
  std::string tally(uint64_t page_cache_pieces, uint64_t mapped_direct_refused) const;
  // zc_mapped, zc_mapped_nogup, zc_copied: for the control plane's summary.
  std::vector<NamedCounter> counters() const override;

  uint64_t copied() const { return copied_.load(std::memory_order_relaxed); }
  uint64_t mapped() const { return mapped_.load(std::memory_order_relaxed); }
  uint64_t mapped_nogup() const { return mapped_nogup_.load(std::memory_order_relaxed); }

 private:
  bool present_ = false;
  std::string problem_;  // why a capability flag was not honoured
  uintptr_t window_begin_ = 0, nogup_begin_ = 0, window_end_ = 0;
  uint32_t slot_bytes_ = 0, min_len_ = 0, zc_flags_ = 0;
  std::atomic<uint64_t> copied_{0}, mapped_{0}, mapped_nogup_{0};
};

}  // namespace tcmu_switch
