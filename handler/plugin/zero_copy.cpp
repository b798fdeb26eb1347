#include "zero_copy.h"

#include <cstring>

namespace tcmu_switch {
namespace {

template <typename T>
T read_field(const void* mailbox, size_t offset) {
  T value;
  std::memcpy(&value, static_cast<const char*>(mailbox) + offset, sizeof(value));
  return value;
}

void bump(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

// The kernel reads the word with READ_ONCE when it queues a command; one
// aligned store, released so that it follows everything attach() read.
void declare_handler_caps(void* mailbox, uint32_t caps) {
  auto* word = reinterpret_cast<uint32_t*>(static_cast<char*>(mailbox) + zc_mailbox::kHandlerCaps);
  __atomic_store_n(word, caps, __ATOMIC_RELEASE);
}

}  // namespace

void ZeroCopyWindow::attach(void* mailbox, size_t map_len) {
  using namespace zc_mailbox;
  present_ = false;
  if (mailbox == nullptr || map_len < kMailboxBytes) return;
  if ((read_field<uint16_t>(mailbox, kFlagsOffset) & kCapZeroCopy) == 0) return;
  const auto off = read_field<uint64_t>(mailbox, kWindowOffset);
  const auto size = read_field<uint64_t>(mailbox, kWindowSize);
  const auto nogup = read_field<uint64_t>(mailbox, kNoGupOffset);
  if (off > map_len || size > map_len - off || nogup < off || nogup > off + size) {
    problem_ = "zero-copy window [" + std::to_string(off) + ", +" + std::to_string(size) +
               ") does not fit the " + std::to_string(map_len) + "-byte map; ignored";
    return;
  }
  const auto base = reinterpret_cast<uintptr_t>(mailbox);
  window_begin_ = base + off;
  nogup_begin_ = base + nogup;
  window_end_ = base + off + size;
  slot_bytes_ = read_field<uint32_t>(mailbox, kSlotSize);
  min_len_ = read_field<uint32_t>(mailbox, kMinLen);
  zc_flags_ = read_field<uint32_t>(mailbox, kZcFlags);
  present_ = true;
  // No-GUP slots are safe here: the device never sends them O_DIRECT.
  declare_handler_caps(mailbox, kHandlerZeroCopy | kHandlerNoGup);
}

ZeroCopyWindow::BufferKind ZeroCopyWindow::classify(const void* buffer) const noexcept {
  const auto p = reinterpret_cast<uintptr_t>(buffer);
  if (!present_ || p < window_begin_ || p >= window_end_) return BufferKind::kCopied;
  return p >= nogup_begin_ ? BufferKind::kMappedNoGup : BufferKind::kMapped;
}

ZeroCopyWindow::BufferKind ZeroCopyWindow::count(const iovec* iov, size_t iov_cnt) noexcept {
  if (iov_cnt == 0) return BufferKind::kCopied;
  const BufferKind kind = classify(iov[0].iov_base);
  switch (kind) {
    case BufferKind::kCopied: bump(copied_); break;
    case BufferKind::kMapped: bump(mapped_); break;
    case BufferKind::kMappedNoGup: bump(mapped_nogup_); break;
  }
  return kind;
}

std::string ZeroCopyWindow::describe() const {
  if (!present_)
    return problem_.empty() ? "zero copy: not offered by the kernel (stock target_core_user): copy path"
                            : "zero copy: " + problem_;
  return "zero copy: window of " + std::to_string((window_end_ - window_begin_) >> 20) + " MiB, " +
         std::to_string(slot_bytes_ >> 10) + " KiB slots, no-GUP part " +
         std::to_string((window_end_ - nogup_begin_) >> 20) + " MiB, min_len " + std::to_string(min_len_) +
         ", " + ((zc_flags_ & 1) ? "enabled" : "disabled (zc_enable=0)");
}

std::string ZeroCopyWindow::tally(uint64_t page_cache_pieces, uint64_t mapped_direct_refused) const {
  return "zero copy: commands " + std::to_string(mapped()) + " mapped, " + std::to_string(mapped_nogup()) +
         " mapped no-GUP, " + std::to_string(copied()) + " copied; pieces " + std::to_string(page_cache_pieces) +
         " no-GUP through the page cache, " + std::to_string(mapped_direct_refused) + " mapped refused by O_DIRECT";
}

std::vector<NamedCounter> ZeroCopyWindow::counters() const {
  return {{"zc_mapped", mapped()}, {"zc_mapped_nogup", mapped_nogup()}, {"zc_copied", copied()}};
}

}  // namespace tcmu_switch
