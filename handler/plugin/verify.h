// VERIFY (10/12/16) (SBC-4 5.34-5.36): the CDB checks and the comparison,
// apart from the reads the plugin does with them.
//
// tcmu-runner 1.5.4 does not implement VERIFY (INVALID COMMAND OPERATION
// CODE), and LIO fileio answers GOOD without comparing anything. Here
// BYTCHK 01b compares the Data-Out blocks with the medium, 11b compares the
// one Data-Out block with every block of the range, both ending in
// MISCOMPARE with the offset of the first differing byte; 00b (verify the
// medium) checks the range only, as fileio does: the paths report their
// own medium errors on every read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "lun_facts.h"
#include "sense.h"

namespace tcmu_switch {

enum class ByteCheck : uint8_t { kNone = 0, kBlocks = 1, kOneBlock = 3 };

struct Verify {
  uint64_t lba = 0;
  uint32_t nr_blocks = 0;  // 0: nothing to do, GOOD
  ByteCheck bytchk = ByteCheck::kNone;
  std::optional<Sense> sense;  // set: CHECK CONDITION before any I/O
};

// REQUIRES: cdb holds a VERIFY (10) (2Fh), (12) (AFh) or (16) (8Fh).
// data_out_bytes: the length of the Data-Out buffer.
Verify parse_verify(std::span<const uint8_t> cdb, uint64_t data_out_bytes, const LunFacts& facts) noexcept;

// The offset of the first byte of `found` that differs from `block`
// repeated over it, or none. REQUIRES: found.size() is a multiple of
// block.size().
std::optional<uint32_t> first_difference_repeated(std::span<const uint8_t> block,
                                                  std::span<const uint8_t> found) noexcept;

}  // namespace tcmu_switch
