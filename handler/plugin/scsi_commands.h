// Which commands the handler answers itself, and the answers that need
// nothing but LunFacts. The plugin's handle_cmd asks classify() on every
// command: no allocation, one switch on the opcode; everything classified
// kPassOn goes on to tcmu-runner (TCMU_STS_NOT_HANDLED).
#pragma once

#include <span>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

enum class HandlerCommand : uint8_t {
  kPassOn,           // tcmu-runner emulates it, or maps it onto read/write/flush/unmap
  kFromFacts,        // INQUIRY, MODE SENSE/SELECT, READ CAPACITY (16): answer_from_facts()
  kCompareAndWrite,  // compare_and_write.h, with I/O on the paths
};

HandlerCommand classify(std::span<const uint8_t> cdb) noexcept;

// Whether the command carries parameter data the answer reads (MODE SELECT).
bool reads_data_out(std::span<const uint8_t> cdb) noexcept;

// REQUIRES: classify(cdb) == kFromFacts. data_out: the Data-Out buffer of a
// command that reads_data_out(), else empty.
ScsiAnswer answer_from_facts(std::span<const uint8_t> cdb, std::span<const uint8_t> data_out, const LunFacts& facts);

}  // namespace tcmu_switch
