// COMPARE AND WRITE (SBC-4 5.3): the CDB checks and the comparison, apart
// from the I/O the plugin does with them.
//
// tcmu-runner 1.5.4 takes one block at most (MAX_CAW_LENGTH,
// tcmur_cmd_handler.c:1659) and makes it atomic only against other COMPARE
// AND WRITEs (its caw_lock). The plugin runs it itself: up to
// max_compare_and_write_blocks (advertised in Block Limits), holding the
// range against every overlapping write-class command from its read to the
// end of its write (SwitchDevice::hold_range).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "lun_facts.h"
#include "sense.h"

namespace tcmu_switch {

struct CompareAndWrite {
  uint64_t lba = 0;
  uint32_t nr_blocks = 0;  // 0 (and no Data-Out): nothing to do, GOOD (SBC-4 5.3)
  bool fua = false;        // the write reaches the paths' media before GOOD
  std::optional<Sense> sense;  // set: the command ends with CHECK CONDITION before any I/O
};

// The largest NUMBER OF LOGICAL BLOCKS the plugin takes: the field is one
// byte, and the Data-Out buffer (twice the blocks) must fit one transfer.
uint8_t compare_and_write_limit(uint32_t max_xfer_blocks) noexcept;

// REQUIRES: cdb holds a COMPARE AND WRITE (89h, 16 bytes). data_out_bytes:
// the length of the Data-Out buffer, which must hold the verify and the write
// data.
CompareAndWrite parse_compare_and_write(std::span<const uint8_t> cdb, uint64_t data_out_bytes,
                                        const LunFacts& facts) noexcept;

// The offset of the first byte where `expected` and `found` differ, or none.
// REQUIRES: equal sizes.
std::optional<uint32_t> first_difference(std::span<const uint8_t> expected, std::span<const uint8_t> found) noexcept;

}  // namespace tcmu_switch
