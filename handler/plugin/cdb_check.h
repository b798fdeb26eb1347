// check_cdb: the CDB fields this LUN must refuse before tcmu-runner emulates
// the command.
//
// tcmu-runner 1.5.4 reads the LBA and length of READ, WRITE, VERIFY, COMPARE
// AND WRITE and WRITE SAME but never looks at their protection fields or at
// WRITE SAME's ANCHOR bit, so it would execute commands that SBC-3 requires a
// logical unit with our capabilities to terminate with ILLEGAL REQUEST /
// INVALID FIELD IN CDB (libiscsi's iscsi-test-cu checks each one). The plugin
// runs this on every command through the handler's handle_cmd callout.
#pragma once

#include <cstdint>
#include <span>

namespace tcmu_switch {

// The operation codes checked here (SBC-3); named apart from the SCSI
// headers' macros so both can be included together.
namespace scsi_op {
inline constexpr uint8_t kRead10 = 0x28;
inline constexpr uint8_t kRead12 = 0xa8;
inline constexpr uint8_t kRead16 = 0x88;
inline constexpr uint8_t kWrite10 = 0x2a;
inline constexpr uint8_t kWrite12 = 0xaa;
inline constexpr uint8_t kWrite16 = 0x8a;
inline constexpr uint8_t kWriteAndVerify10 = 0x2e;
inline constexpr uint8_t kWriteAndVerify12 = 0xae;
inline constexpr uint8_t kWriteAndVerify16 = 0x8e;
inline constexpr uint8_t kVerify10 = 0x2f;
inline constexpr uint8_t kVerify12 = 0xaf;
inline constexpr uint8_t kVerify16 = 0x8f;
inline constexpr uint8_t kCompareAndWrite = 0x89;
inline constexpr uint8_t kWriteSame10 = 0x41;
inline constexpr uint8_t kWriteSame16 = 0x93;
}  // namespace scsi_op

struct CdbVerdict {
  // The name of the field that makes the CDB invalid (a string literal, for
  // the log), or null when the runner may go on with the command.
  const char* invalid_field = nullptr;
  // Where it is, for the sense data's field pointer: the byte, and the
  // field's most significant bit.
  uint8_t byte = 0;
  uint8_t bit = 0;

  bool passes() const { return invalid_field == nullptr; }
};

// Judges only what it knows: other opcodes, and a CDB too short to hold
// byte 1, pass.
CdbVerdict check_cdb(std::span<const uint8_t> cdb) noexcept;

}  // namespace tcmu_switch
