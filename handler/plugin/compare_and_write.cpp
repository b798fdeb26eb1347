#include "compare_and_write.h"

#include <algorithm>

#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kFua = 0x08;
constexpr size_t kNrBlocksByte = 13;

}  // namespace

uint8_t compare_and_write_limit(uint32_t max_xfer_blocks) noexcept {
  return static_cast<uint8_t>(std::min<uint32_t>(UINT8_MAX, max_xfer_blocks / 2));
}

CompareAndWrite parse_compare_and_write(std::span<const uint8_t> cdb, uint64_t data_out_bytes,
                                        const LunFacts& facts) noexcept {
  CompareAndWrite caw;
  caw.lba = get_be(cdb, 2, 8);
  caw.nr_blocks = cdb[kNrBlocksByte];
  caw.fua = (cdb[1] & kFua) != 0;
  if (caw.nr_blocks > facts.max_compare_and_write_blocks) {
    caw.sense = invalid_field_in_cdb(kNrBlocksByte);
  } else if (caw.lba > facts.nr_blocks || caw.nr_blocks > facts.nr_blocks - caw.lba) {
    caw.sense = lba_out_of_range();
  } else if (data_out_bytes != uint64_t{2} * caw.nr_blocks * facts.block_bytes) {
    // The Data-Out buffer is not verify + write data: with 0 blocks that is
    // data the CDB does not ask for (an initiator counting 256 blocks into
    // the one-byte field sends 0).
    caw.sense = invalid_field_in_cdb(kNrBlocksByte);
  }
  return caw;
}

std::optional<uint32_t> first_difference(std::span<const uint8_t> expected, std::span<const uint8_t> found) noexcept {
  const auto [e, f] = std::mismatch(expected.begin(), expected.end(), found.begin());
  if (e == expected.end()) return std::nullopt;
  return static_cast<uint32_t>(e - expected.begin());
}

}  // namespace tcmu_switch
