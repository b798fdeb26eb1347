#include "scsi_commands.h"

#include "cdb_check.h"
#include "inquiry_pages.h"
#include "lba_status.h"
#include "mode_pages.h"
#include "provisioning_pages.h"
#include "scsi_bytes.h"
#include "supported_opcodes.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kInquiry = 0x12;
constexpr uint8_t kModeSelect6 = 0x15;
constexpr uint8_t kModeSense6 = 0x1a;
constexpr uint8_t kModeSelect10 = 0x55;
constexpr uint8_t kModeSense10 = 0x5a;
// The opcodes cdb_check.h already names are its own (scsi_op), not defined twice.
using scsi_op::kCompareAndWrite;
using scsi_op::kVerify10;
using scsi_op::kVerify12;
using scsi_op::kVerify16;
using scsi_op::kWriteSame10;
using scsi_op::kWriteSame16;
constexpr uint8_t kSyncCache10 = 0x35;
constexpr uint8_t kSyncCache16 = 0x91;
constexpr uint8_t kExtendedCopy = 0x83;  // LID1 is service action 00h
constexpr uint8_t kServiceActionIn16 = 0x9e;
constexpr uint8_t kReadCapacity16 = 0x10;  // service action, byte 1 bits 4:0
constexpr uint8_t kMaintenanceIn = 0xa3;
constexpr uint8_t kReportSupportedOpcodes = 0x0c;  // service action

// The CDB length of each opcode group (SPC-4 4.2.5.1); shorter means the
// command is not the one its opcode names.
size_t needed_length(uint8_t opcode) {
  switch (opcode >> 5) {
    case 0: return 6;
    case 1:
    case 2: return 10;
    case 4: return 16;
    case 5: return 12;
  }
  return SIZE_MAX;
}

}  // namespace

HandlerCommand classify(std::span<const uint8_t> cdb) noexcept {
  if (cdb.empty() || cdb.size() < needed_length(cdb[0])) return HandlerCommand::kPassOn;
  switch (cdb[0]) {
    case kInquiry:
      // VPD 83 stays tcmu-runner's: LIO's EXTENDED COPY finds its destination by
      // the NAA designator an initiator reads there, and ours did not match
      // (zc_guards: sg_xcopy to user:switch, "copy aborted").
      return (cdb[1] & 0x01) != 0 && cdb[2] == 0x83 ? HandlerCommand::kPassOn : HandlerCommand::kFromFacts;
    case kModeSense6:
    case kModeSense10:
    case kModeSelect6:
    case kModeSelect10: return HandlerCommand::kFromFacts;
    case kServiceActionIn16:
      switch (cdb[1] & 0x1f) {
        case kReadCapacity16: return HandlerCommand::kFromFacts;
        case kGetLbaStatusAction: return HandlerCommand::kGetLbaStatus;
      }
      return HandlerCommand::kPassOn;
    case kMaintenanceIn:  // REPORT TARGET PORT GROUPS and the rest stay the runner's
      return (cdb[1] & 0x1f) == kReportSupportedOpcodes ? HandlerCommand::kFromFacts : HandlerCommand::kPassOn;
    case kCompareAndWrite: return HandlerCommand::kCompareAndWrite;
    case kVerify10:
    case kVerify12:
    case kVerify16: return HandlerCommand::kVerify;
    case kWriteSame10:
    case kWriteSame16: return HandlerCommand::kWriteSame;
    case kSyncCache10:
    case kSyncCache16: return HandlerCommand::kSyncCache;
    case kExtendedCopy: return (cdb[1] & 0x1f) == 0 ? HandlerCommand::kExtendedCopy : HandlerCommand::kPassOn;
  }
  return HandlerCommand::kPassOn;
}

std::optional<Sense> write_same_beyond_limit(std::span<const uint8_t> cdb, const LunFacts& facts) noexcept {
  const bool sixteen = cdb[0] == kWriteSame16;
  const uint16_t at = sixteen ? 10 : 7;
  const uint64_t nr_blocks = get_be(cdb, at, sixteen ? 4 : 2);
  if (nr_blocks <= facts.max_write_same_blocks) return std::nullopt;
  return invalid_field_in_cdb(at);
}

std::optional<Sense> sync_cache_out_of_range(std::span<const uint8_t> cdb, const LunFacts& facts) noexcept {
  const bool sixteen = cdb[0] == kSyncCache16;
  const uint64_t lba = sixteen ? get_be(cdb, 2, 8) : get_be(cdb, 2, 4);
  const uint64_t nr_blocks = sixteen ? get_be(cdb, 10, 4) : get_be(cdb, 7, 2);  // 0: to the end
  if (lba > facts.nr_blocks || nr_blocks > facts.nr_blocks - lba) return lba_out_of_range();
  return std::nullopt;
}

bool reads_data_out(std::span<const uint8_t> cdb) noexcept {
  return !cdb.empty() && (cdb[0] == kModeSelect6 || cdb[0] == kModeSelect10 || cdb[0] == kExtendedCopy);
}

ScsiAnswer answer_from_facts(std::span<const uint8_t> cdb, std::span<const uint8_t> data_out, const LunFacts& facts) {
  switch (cdb[0]) {
    case kInquiry: return answer_inquiry(cdb, facts);
    case kModeSense6:
    case kModeSense10: return answer_mode_sense(cdb, facts);
    case kModeSelect6:
    case kModeSelect10: return answer_mode_select(cdb, data_out, facts);
    case kMaintenanceIn: return answer_report_supported_opcodes(cdb, facts);
  }
  // READ CAPACITY (16): the ALLOCATION LENGTH is bytes 10-13.
  const auto data = read_capacity_16_data(facts.nr_blocks, facts.block_bytes, facts.lbprz);
  return data_in({data.begin(), data.end()}, static_cast<uint32_t>(get_be(cdb, 10, 4)));
}

}  // namespace tcmu_switch
