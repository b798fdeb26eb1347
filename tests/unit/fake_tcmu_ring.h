// fake_tcmu_ring: a TCMU mailbox and command ring built with the kernel's own
// <linux/target_core_user.h>, in C (its inline helpers do not compile as
// C++), so that ring_residual's offsets are checked against the real layout.
// Offsets are from the mailbox, as ring_residual's.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { FAKE_RING_PAD = 0, FAKE_RING_CMD = 1, FAKE_RING_TMR = 2 };

// A mailbox at `map` with its ring of ring_bytes at ring_off; flags: the
// kernel's capability bits.
void fake_ring_init(uint8_t* map, uint32_t ring_off, uint32_t ring_bytes, uint16_t flags);
uint16_t fake_ring_cap_read_len(void);
uint8_t fake_ring_uflag_read_len(void);
// The kernel's queue_cmd_ring: zeroes the entry at cmd_head, writes its
// header (kflags 0x5a, to see that a mark leaves them) and, for a command, an
// iov_cnt; returns the entry's offset.
uint32_t fake_ring_queue(uint8_t* map, int op, uint32_t len, uint16_t cmd_id);
// tcmulib_command_complete (libtcmu.c:1312-1340): past the entries that are
// not commands, the status into the first command entry at cmd_tail, then the
// tail past it; returns the entry's offset.
uint32_t fake_ring_complete(uint8_t* map, uint16_t cmd_id, uint8_t status);
// A header with this opcode and no length (a broken ring).
void fake_ring_zero_length(uint8_t* map, uint32_t entry, int op);
// The kernel reusing the entry: zeroed.
void fake_ring_reuse(uint8_t* map, uint32_t entry);

struct fake_ring_entry {
  int op;
  uint32_t len;
  uint16_t cmd_id;
  uint8_t kflags, uflags, scsi_status;
  uint32_t read_len;
};
struct fake_ring_entry fake_ring_read(const uint8_t* map, uint32_t entry);

#ifdef __cplusplus
}
#endif
