#include "ring_residual.h"

#include <atomic>
#include <cstddef>

namespace tcmu_switch::ring {
namespace {

// <linux/target_core_user.h> as offsets: its inline helpers do not compile
// as C++. tests/unit/ring_residual_test checks them against the header, in C.
namespace mailbox_field {
constexpr size_t kFlags = 2;     // __u16 flags
constexpr size_t kCmdrOff = 4;   // __u32 cmdr_off: the ring, from the mailbox
constexpr size_t kCmdrSize = 8;  // __u32 cmdr_size
constexpr size_t kCmdHead = 12;  // __u32 cmd_head: the kernel's
constexpr size_t kCmdTail = 64;  // __u32 cmd_tail: userspace's, on its own cacheline
constexpr uint16_t kCapReadLen = 1u << 1;  // TCMU_MAILBOX_FLAG_CAP_READ_LEN
}  // namespace mailbox_field
namespace entry_field {
constexpr size_t kLenOp = 0;     // __u32 hdr.len_op: length | opcode (low 3 bits)
constexpr size_t kUflags = 7;    // __u8 hdr.uflags
constexpr size_t kStatus = 8;    // __u8 rsp.scsi_status
constexpr size_t kReadLen = 12;  // __u32 rsp.read_len
constexpr uint32_t kOpMask = 0x7;       // TCMU_OP_MASK
constexpr uint32_t kOpCmd = 1;          // TCMU_OP_CMD
constexpr uint8_t kUflagReadLen = 0x2;  // TCMU_UFLAG_READ_LEN
}  // namespace entry_field

// A status byte no completion writes: tcmu_sts_to_scsi() gives SAM status
// codes (GOOD 00h ... TASK ABORTED 40h).
constexpr uint8_t kPendingStatus = 0xff;

// The kernel writes cmd_head and the runner cmd_tail and the entries while
// the handler reads them: every access is an atomic one of the field's size.
template <typename T>
T load(const uint8_t* mailbox, size_t at) {
  return std::atomic_ref<T>(*reinterpret_cast<T*>(const_cast<uint8_t*>(mailbox) + at))
      .load(std::memory_order_acquire);
}

template <typename T>
void store(uint8_t* mailbox, size_t at, T value) {
  std::atomic_ref<T>(*reinterpret_cast<T*>(mailbox + at)).store(value, std::memory_order_release);
}

}  // namespace

bool reports_read_len(const uint8_t* mailbox) noexcept {
  return (load<uint16_t>(mailbox, mailbox_field::kFlags) & mailbox_field::kCapReadLen) != 0;
}

std::optional<uint32_t> next_completion_entry(const uint8_t* mailbox) noexcept {
  const uint32_t ring = load<uint32_t>(mailbox, mailbox_field::kCmdrOff);
  const uint32_t ring_bytes = load<uint32_t>(mailbox, mailbox_field::kCmdrSize);
  const uint32_t head = load<uint32_t>(mailbox, mailbox_field::kCmdHead);
  uint32_t tail = load<uint32_t>(mailbox, mailbox_field::kCmdTail);
  // At most one lap: each skipped entry is at least 8 bytes long.
  for (uint32_t skipped = 0; tail != head && skipped < ring_bytes; skipped++) {
    const uint32_t len_op = load<uint32_t>(mailbox, ring + tail + entry_field::kLenOp);
    if ((len_op & entry_field::kOpMask) == entry_field::kOpCmd) return ring + tail;
    const uint32_t len = len_op & ~entry_field::kOpMask;
    if (len == 0) return std::nullopt;
    tail = (tail + len) % ring_bytes;
  }
  return std::nullopt;
}

void mark_read_len(uint8_t* mailbox, uint32_t entry, uint32_t read_len) noexcept {
  // rsp overlays req, which libtcmu copied out when it fetched the command.
  store<uint32_t>(mailbox, entry + entry_field::kReadLen, read_len);
  store<uint8_t>(mailbox, entry + entry_field::kStatus, kPendingStatus);
  const auto uflags = load<uint8_t>(mailbox, entry + entry_field::kUflags);
  store<uint8_t>(mailbox, entry + entry_field::kUflags, static_cast<uint8_t>(uflags | entry_field::kUflagReadLen));
}

bool completion_landed(const uint8_t* mailbox, uint32_t entry) noexcept {
  // A new command's entry is zeroed: READ_LEN gone.
  const bool marked = (load<uint8_t>(mailbox, entry + entry_field::kUflags) & entry_field::kUflagReadLen) != 0;
  return !marked || load<uint8_t>(mailbox, entry + entry_field::kStatus) != kPendingStatus;
}

}  // namespace tcmu_switch::ring
