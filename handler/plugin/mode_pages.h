// MODE SENSE (6/10) and MODE SELECT (6/10) answered by the handler (SPC-4
// 6.11-6.14, SBC-4 6.5), with the pages LIO fileio offers: Read-Write Error
// Recovery (01h), Caching (08h), Control (0Ah), Informational Exceptions
// Control (1Ch).
//
// What tcmu-runner 1.5.4 gets wrong and this fixes: DPOFUA=0 in the
// device-specific parameter, so Linux initiators never send FUA and the
// handler's FUA (a RWF_DSYNC write on the path) is never used. Here DPOFUA=1
// and WCE comes from LunFacts.
//
// No field is changeable (the changeable-values page is all zeroes, as on
// fileio): MODE SELECT takes a page only when it equals the current one, and
// names the first byte that differs otherwise.
#pragma once

#include <span>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

// REQUIRES: cdb holds a MODE SENSE (6) (1Ah, 6 bytes) or (10) (5Ah, 10 bytes).
ScsiAnswer answer_mode_sense(std::span<const uint8_t> cdb, const LunFacts& facts);

// REQUIRES: cdb holds a MODE SELECT (6) (15h) or (10) (55h); parameters is
// the Data-Out buffer.
ScsiAnswer answer_mode_select(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters,
                              const LunFacts& facts);

}  // namespace tcmu_switch
