#include "fake_tcmu_ring.h"

#include <linux/target_core_user.h>
#include <string.h>

static struct tcmu_mailbox* mailbox(uint8_t* map) { return (struct tcmu_mailbox*)map; }

static struct tcmu_cmd_entry* entry_at(uint8_t* map, uint32_t entry) { return (struct tcmu_cmd_entry*)(map + entry); }

void fake_ring_init(uint8_t* map, uint32_t ring_off, uint32_t ring_bytes, uint16_t flags) {
  memset(map, 0, ring_off + ring_bytes);
  mailbox(map)->version = TCMU_MAILBOX_VERSION;
  mailbox(map)->flags = flags;
  mailbox(map)->cmdr_off = ring_off;
  mailbox(map)->cmdr_size = ring_bytes;
}

uint16_t fake_ring_cap_read_len(void) { return TCMU_MAILBOX_FLAG_CAP_READ_LEN; }

uint8_t fake_ring_uflag_read_len(void) { return TCMU_UFLAG_READ_LEN; }

uint32_t fake_ring_queue(uint8_t* map, int op, uint32_t len, uint16_t cmd_id) {
  struct tcmu_mailbox* mb = mailbox(map);
  const uint32_t at = mb->cmdr_off + mb->cmd_head;
  struct tcmu_cmd_entry* e = entry_at(map, at);
  memset(e, 0, len);
  uint32_t len_op = 0;  // the header is packed: no pointer into it
  tcmu_hdr_set_op(&len_op, (enum tcmu_opcode)op);
  tcmu_hdr_set_len(&len_op, len);
  e->hdr.len_op = len_op;
  e->hdr.cmd_id = cmd_id;
  e->hdr.kflags = 0x5a;
  if (op == TCMU_OP_CMD) e->req.iov_cnt = 1;
  mb->cmd_head = (mb->cmd_head + len) % mb->cmdr_size;
  return at;
}

uint32_t fake_ring_complete(uint8_t* map, uint16_t cmd_id, uint8_t status) {
  struct tcmu_mailbox* mb = mailbox(map);
  struct tcmu_cmd_entry* e = entry_at(map, mb->cmdr_off + mb->cmd_tail);
  while (mb->cmd_tail != mb->cmd_head && tcmu_hdr_get_op(e->hdr.len_op) != TCMU_OP_CMD) {
    mb->cmd_tail = (mb->cmd_tail + tcmu_hdr_get_len(e->hdr.len_op)) % mb->cmdr_size;
    e = entry_at(map, mb->cmdr_off + mb->cmd_tail);
  }
  const uint32_t landed = mb->cmdr_off + mb->cmd_tail;
  e->hdr.cmd_id = cmd_id;
  e->rsp.scsi_status = status;
  mb->cmd_tail = (mb->cmd_tail + tcmu_hdr_get_len(e->hdr.len_op)) % mb->cmdr_size;
  return landed;
}

void fake_ring_zero_length(uint8_t* map, uint32_t entry, int op) { entry_at(map, entry)->hdr.len_op = (uint32_t)op; }

void fake_ring_reuse(uint8_t* map, uint32_t entry) { memset(entry_at(map, entry), 0, sizeof(struct tcmu_cmd_entry)); }

struct fake_ring_entry fake_ring_read(const uint8_t* map, uint32_t entry) {
  const struct tcmu_cmd_entry* e = (const struct tcmu_cmd_entry*)(map + entry);
  struct fake_ring_entry out = {(int)tcmu_hdr_get_op(e->hdr.len_op), tcmu_hdr_get_len(e->hdr.len_op),
                                e->hdr.cmd_id, e->hdr.kflags, e->hdr.uflags, e->rsp.scsi_status, e->rsp.read_len};
  return out;
}
