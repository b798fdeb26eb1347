// EXTENDED COPY (LID1) (SPC-4 6.4; 83h, service action 00h): the parameter
// list checked before tcmu-runner copies. The runner answers every bad list
// with INVALID FIELD IN PARAMETER LIST; SPC-4 and LIO fileio name the fault:
// PARAMETER LIST LENGTH ERROR, TOO MANY TARGET/SEGMENT DESCRIPTORS,
// UNSUPPORTED TARGET/SEGMENT DESCRIPTOR TYPE CODE. The limits are the
// runner's own, which its RECEIVE COPY RESULTS reports (scsi_defs.h:48-50):
// 2 target descriptors, 1 segment descriptor, 1024 bytes of descriptors;
// the types it takes are the identification target descriptor (E4h) and
// the block-to-block segment (02h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "sense.h"

namespace tcmu_switch {

// The fault of an EXTENDED COPY parameter list, or none (the runner copies;
// an empty list is GOOD without it). parameters: the Data-Out buffer.
std::optional<Sense> check_extended_copy(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters) noexcept;

// Whether every target descriptor of the list names the LUN with this NAA
// designator (an identification descriptor's bytes 8-23), i.e. the copy stays
// inside the LUN that received it. REQUIRES: check_extended_copy() passed it.
bool copies_within(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters,
                   const std::array<uint8_t, 16>& naa) noexcept;

}  // namespace tcmu_switch
