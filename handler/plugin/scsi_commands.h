// Which commands the handler answers itself, and the answers that need
// nothing but LunFacts. The plugin's handle_cmd asks classify() on every
// command: no allocation, one switch on the opcode; everything classified
// kPassOn goes on to tcmu-runner (TCMU_STS_NOT_HANDLED).
#pragma once

#include <optional>
#include <span>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

enum class HandlerCommand : uint8_t {
  kPassOn,           // tcmu-runner emulates it, or maps it onto read/write/flush/unmap
  kFromFacts,        // INQUIRY, MODE SENSE/SELECT, READ CAPACITY (16), REPORT SUPPORTED
                     // OPERATION CODES: answer_from_facts()
  kCompareAndWrite,  // compare_and_write.h, with I/O on the paths
  kVerify,           // verify.h, with reads on the paths
  kGetLbaStatus,     // lba_status.h, with the paths' mapped/deallocated runs
  kWriteSame,        // checked against the advertised limit, then tcmu-runner's
  kSyncCache,        // its range checked, then tcmu-runner's flush of every path
  kExtendedCopy,     // its parameter list checked (extended_copy.h), then tcmu-runner's copy
};

HandlerCommand classify(std::span<const uint8_t> cdb) noexcept;

// WRITE SAME (10/16) beyond MAXIMUM WRITE SAME LENGTH (SBC-4 5.50): INVALID
// FIELD IN CDB at the NUMBER OF LOGICAL BLOCKS; none when within it, which
// tcmu-runner does not check (it takes up to 2^32 - 1 blocks).
// REQUIRES: classify(cdb) == kWriteSame.
std::optional<Sense> write_same_beyond_limit(std::span<const uint8_t> cdb, const LunFacts& facts) noexcept;

// SYNCHRONIZE CACHE (10/16) whose range runs past the LUN: LBA OUT OF RANGE
// (SBC-4 5.24); none otherwise. tcmu-runner flushes every path whatever the
// range says, which covers any range. REQUIRES: classify(cdb) == kSyncCache.
std::optional<Sense> sync_cache_out_of_range(std::span<const uint8_t> cdb, const LunFacts& facts) noexcept;

// Whether the command carries parameter data the handler reads (MODE SELECT,
// EXTENDED COPY).
bool reads_data_out(std::span<const uint8_t> cdb) noexcept;

// REQUIRES: classify(cdb) == kFromFacts. data_out: the Data-Out buffer of a
// command that reads_data_out(), else empty.
ScsiAnswer answer_from_facts(std::span<const uint8_t> cdb, std::span<const uint8_t> data_out, const LunFacts& facts);

}  // namespace tcmu_switch
