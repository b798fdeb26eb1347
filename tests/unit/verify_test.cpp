// VERIFY's CDB checks and the one-block comparison.
#include "verify.h"

#include <gtest/gtest.h>

#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::facts;

std::vector<uint8_t> verify10(uint32_t lba, uint16_t blocks, uint8_t bytchk) {
  return {0x2f, static_cast<uint8_t>(bytchk << 1), static_cast<uint8_t>(lba >> 24), static_cast<uint8_t>(lba >> 16),
          static_cast<uint8_t>(lba >> 8), static_cast<uint8_t>(lba), 0, static_cast<uint8_t>(blocks >> 8),
          static_cast<uint8_t>(blocks), 0};
}

std::vector<uint8_t> verify16(uint64_t lba, uint32_t blocks, uint8_t bytchk) {
  std::vector<uint8_t> c(16);
  c[0] = 0x8f;
  c[1] = static_cast<uint8_t>(bytchk << 1);
  for (int i = 0; i < 8; i++) c[2 + i] = static_cast<uint8_t>(lba >> (56 - 8 * i));
  for (int i = 0; i < 4; i++) c[10 + i] = static_cast<uint8_t>(blocks >> (24 - 8 * i));
  return c;
}

TEST(Verify, ParsesEachLengthAndByteCheck) {
  auto v = parse_verify(verify10(100, 8, 1), 8 * 512, facts());
  EXPECT_FALSE(v.sense);
  EXPECT_EQ(v.lba, 100u);
  EXPECT_EQ(v.nr_blocks, 8u);
  EXPECT_EQ(v.bytchk, ByteCheck::kBlocks);
  v = parse_verify(verify16(7, 1000, 3), 512, facts());
  EXPECT_FALSE(v.sense);
  EXPECT_EQ(v.bytchk, ByteCheck::kOneBlock);
  EXPECT_EQ(v.nr_blocks, 1000u);
  const std::vector<uint8_t> v12 = {0xaf, 0, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0};
  v = parse_verify(v12, 0, facts());
  EXPECT_EQ(v.lba, 9u);
  EXPECT_EQ(v.nr_blocks, 4u);
  EXPECT_EQ(v.bytchk, ByteCheck::kNone);
}

TEST(Verify, ReservedByteCheckPointsAtIt) {
  const auto v = parse_verify(verify10(0, 1, 2), 512, facts());
  ASSERT_TRUE(v.sense);
  EXPECT_EQ(v.sense->asc_ascq, 0x2400);
  EXPECT_EQ(v.sense->field->byte, 1);
  EXPECT_EQ(v.sense->field->bit, 2);
}

TEST(Verify, RangeAndDataOutAreChecked) {
  EXPECT_EQ(parse_verify(verify16(131071, 2, 0), 0, facts()).sense->asc_ascq, 0x2100);
  EXPECT_FALSE(parse_verify(verify16(131071, 1, 0), 0, facts()).sense);
  EXPECT_EQ(parse_verify(verify10(0, 4, 1), 512, facts()).sense->field->byte, 7);  // Data-Out too short
  EXPECT_EQ(parse_verify(verify16(0, 4, 3), 4 * 512, facts()).sense->field->byte, 10);  // one block expected
  EXPECT_EQ(parse_verify(verify16(0, 4096, 1), 4096 * 512, facts()).sense->field->byte, 10);  // beyond a transfer
  EXPECT_FALSE(parse_verify(verify10(0, 0, 1), 0, facts()).sense);  // zero blocks: nothing to compare
}

TEST(Verify, RepeatedBlockFindsTheFirstDifferentByte) {
  std::vector<uint8_t> block(512, 0xab), found(4 * 512, 0xab);
  EXPECT_FALSE(first_difference_repeated(block, found));
  found[3 * 512 + 17] = 0;
  found[3 * 512 + 100] = 0;
  EXPECT_EQ(first_difference_repeated(block, found), 3u * 512 + 17);
}

}  // namespace
}  // namespace tcmu_switch
