#include "cdb_check.h"

namespace tcmu_switch {
namespace {

// Byte 1, bits 7..5 of every command that has one: RDPROTECT, WRPROTECT or
// VRPROTECT.
constexpr uint8_t kProtectMask = 0xe0;
// WRITE SAME (10) and (16), byte 1, bit 4.
constexpr uint8_t kAnchorBit = 0x10;

// The name of the opcode's protection field, or null when it has none.
const char* protect_field(uint8_t opcode) {
  using namespace scsi_op;
  switch (opcode) {
    case kRead10:
    case kRead12:
    case kRead16:
      return "RDPROTECT";
    case kWrite10:
    case kWrite12:
    case kWrite16:
    case kWriteAndVerify10:
    case kWriteAndVerify12:
    case kWriteAndVerify16:
    case kCompareAndWrite:
    case kWriteSame10:
    case kWriteSame16:
      return "WRPROTECT";
    case kVerify10:
    case kVerify12:
    case kVerify16:
      return "VRPROTECT";
    default:
      return nullptr;
  }
}

bool is_write_same(uint8_t opcode) { return opcode == scsi_op::kWriteSame10 || opcode == scsi_op::kWriteSame16; }

}  // namespace

CdbVerdict check_cdb(std::span<const uint8_t> cdb) noexcept {
  if (cdb.size() < 2) return {};
  const uint8_t opcode = cdb[0];
  const uint8_t byte1 = cdb[1];
  // The LUN has no protection information: the runner's standard INQUIRY
  // leaves PROTECT at 0 (scsi.c:50). SBC-3's RDPROTECT, WRPROTECT and
  // VRPROTECT tables then allow only 000b; any other value is INVALID FIELD
  // IN CDB.
  const char* protect = protect_field(opcode);
  if (protect != nullptr && (byte1 & kProtectMask) != 0) return {protect, 1, 7};
  // The runner's Logical Block Provisioning VPD page leaves ANC_SUP at 0
  // (scsi.c:423-463), and SBC-3's WRITE SAME requires ANCHOR=1 to be refused
  // then, whatever the UNMAP bit says. The runner checks ANCHOR only on UNMAP.
  if (is_write_same(opcode) && (byte1 & kAnchorBit) != 0) return {"ANCHOR", 1, 4};
  return {};
}

}  // namespace tcmu_switch
