// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35; MAINTENANCE IN A3h, service
// action 0Ch), answered by the handler: neither tcmu-runner 1.5.4 nor LIO
// 6.1 implements it. The list is what the LUN takes, whoever executes it:
// the handler (scsi_commands.h), tcmu-runner's emulation and its read,
// write, flush and unmap mapping, and LIO core (REPORT LUNS, PERSISTENT
// RESERVE IN/OUT). Each entry's CDB USAGE DATA marks the bits the LUN
// evaluates; DPO and FUA are among them, as MODE SENSE's DPOFUA=1 says.
// With RCTD every descriptor carries the recommended command timeout: the
// LUN's cmd_time_out, after which LIO aborts the command.
#pragma once

#include <span>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

// REQUIRES: cdb holds a MAINTENANCE IN (12 bytes) with service action 0Ch.
ScsiAnswer answer_report_supported_opcodes(std::span<const uint8_t> cdb, const LunFacts& facts);

}  // namespace tcmu_switch
