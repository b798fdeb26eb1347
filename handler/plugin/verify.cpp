#include "verify.h"

#include "compare_and_write.h"
#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kVerify10 = 0x2f;
constexpr uint8_t kVerify12 = 0xaf;

struct Fields {
  uint64_t lba;
  uint32_t nr_blocks;
  uint16_t length_byte;  // where the VERIFICATION LENGTH starts, for the field pointer
};

Fields fields_of(std::span<const uint8_t> cdb) {
  if (cdb[0] == kVerify10) return {get_be(cdb, 2, 4), static_cast<uint32_t>(get_be(cdb, 7, 2)), 7};
  if (cdb[0] == kVerify12) return {get_be(cdb, 2, 4), static_cast<uint32_t>(get_be(cdb, 6, 4)), 6};
  return {get_be(cdb, 2, 8), static_cast<uint32_t>(get_be(cdb, 10, 4)), 10};
}

}  // namespace

Verify parse_verify(std::span<const uint8_t> cdb, uint64_t data_out_bytes, const LunFacts& facts) noexcept {
  const Fields f = fields_of(cdb);
  Verify v;
  v.lba = f.lba;
  v.nr_blocks = f.nr_blocks;
  const uint8_t bytchk = (cdb[1] >> 1) & 0x03;
  if (bytchk == 2) {
    v.sense = invalid_field_in_cdb(1, 2);  // reserved value
    return v;
  }
  v.bytchk = static_cast<ByteCheck>(bytchk);
  if (v.lba > facts.nr_blocks || v.nr_blocks > facts.nr_blocks - v.lba) {
    v.sense = lba_out_of_range();
  } else if (v.bytchk == ByteCheck::kBlocks && v.nr_blocks > facts.max_xfer_blocks) {
    v.sense = invalid_field_in_cdb(f.length_byte);  // its Data-Out cannot come in one transfer
  } else if (v.nr_blocks != 0 && v.bytchk != ByteCheck::kNone) {
    const uint64_t want = uint64_t{v.bytchk == ByteCheck::kBlocks ? v.nr_blocks : 1} * facts.block_bytes;
    if (data_out_bytes != want) v.sense = invalid_field_in_cdb(f.length_byte);
  }
  return v;
}

std::optional<uint32_t> first_difference_repeated(std::span<const uint8_t> block,
                                                  std::span<const uint8_t> found) noexcept {
  for (size_t at = 0; at < found.size(); at += block.size()) {
    if (auto d = first_difference(block, found.subspan(at, block.size()))) return static_cast<uint32_t>(at + *d);
  }
  return std::nullopt;
}

}  // namespace tcmu_switch
