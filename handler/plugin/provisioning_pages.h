// What the LUN says about reading unmapped blocks (LBPRZ), answered by the
// handler itself. tcmu-runner 1.5.4 claims LBPRZ unconditionally in READ
// CAPACITY (16) (scsi.c:566) and in the Logical Block Provisioning VPD page
// (scsi.c:450): every UNMAP would then have to leave zeroes, and a path that
// cannot deallocate (a RAM disk, a disk without WRITE ZEROES) would have to
// write them, for as long as the range takes, where the initiator expects a
// cheap hint. The plugin answers these two from here, with LBPRZ only when
// every path really reads back zeroes after deallocating.
#pragma once

#include <array>
#include <cstdint>

namespace tcmu_switch {

// READ CAPACITY (16) parameter data (SBC-4 5.20.2): the last LBA, the block
// length, LBPME set (the LUN takes UNMAP), LBPRZ as given.
std::array<uint8_t, 32> read_capacity_16_data(uint64_t nr_blocks, uint32_t block_bytes, bool lbprz) noexcept;
// The Logical Block Provisioning VPD page (SBC-4 6.6.7): UNMAP, WRITE SAME
// (16) and (10) with UNMAP taken, LBPRZ field 001b or 000b.
std::array<uint8_t, 8> lbp_vpd_page(bool lbprz) noexcept;

}  // namespace tcmu_switch
