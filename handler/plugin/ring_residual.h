// ring_residual: where tcmu-runner writes its next completion in a TCMU
// command ring, and how to make that completion report a Data-In residual.
//
// LIO reports a residual for a TCMU command only when userspace sets
// TCMU_UFLAG_READ_LEN in the entry that completes it, with rsp.read_len the
// bytes it returned (tcmu_handle_completion, target_core_user.c:2308-2313 in
// 6.1; a read_len of 0 is ignored) and the kernel advertises
// TCMU_MAILBOX_FLAG_CAP_READ_LEN. libtcmu 1.5.4 never sets it, and
// tcmulib_command_complete (libtcmu.c:1312-1340) writes each completion into
// the entry at mb->cmd_tail, past the entries that are not commands,
// whichever command it completes (it rewrites hdr.cmd_id): the entry is
// chosen by the order of completions. So the handler marks the entry the
// *next* completion lands in, and must make sure that completion is the
// command it marked it for (completion_gate.h).
//
// Pure functions over the mapped mailbox, so the tests run them on a fake
// ring. Offsets are from the mailbox (the start of the UIO map). The kernel
// zeroes each entry when it queues a command in it (queue_cmd_ring), and
// libtcmu has copied everything it needs out of an entry when it fetched the
// command, so a mark is never seen by anyone but the completion it is for.
#pragma once

#include <cstdint>
#include <optional>

namespace tcmu_switch::ring {

// Whether the kernel honours TCMU_UFLAG_READ_LEN.
bool reports_read_len(const uint8_t* mailbox) noexcept;

// The entry the next completion lands in, found as libtcmu finds it: from
// mb->cmd_tail, past PAD (and TMR) entries, while short of mb->cmd_head.
// None when no command entry is there, or when an entry's length is 0 (a
// ring libtcmu would loop on forever).
std::optional<uint32_t> next_completion_entry(const uint8_t* mailbox) noexcept;

// Marks `entry` (from next_completion_entry) so that its completion reports
// read_len bytes of Data-In, and puts a status there that no completion
// writes, so that completion_landed() can tell when the completion has come.
// REQUIRES: read_len > 0; the entry's completion has not been written.
void mark_read_len(uint8_t* mailbox, uint32_t entry, uint32_t read_len) noexcept;

// Whether the completion the marked `entry` waits for has been written (its
// status replaced), or the entry has been zeroed for a new command since.
bool completion_landed(const uint8_t* mailbox, uint32_t entry) noexcept;

}  // namespace tcmu_switch::ring
