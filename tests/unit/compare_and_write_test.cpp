// COMPARE AND WRITE's CDB checks and comparison.
#include "compare_and_write.h"

#include <gtest/gtest.h>

#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::facts;

std::vector<uint8_t> cdb(uint64_t lba, uint8_t blocks, uint8_t flags = 0) {
  std::vector<uint8_t> c(16);
  c[0] = 0x89;
  c[1] = flags;
  for (int i = 0; i < 8; i++) c[2 + i] = static_cast<uint8_t>(lba >> (56 - 8 * i));
  c[13] = blocks;
  return c;
}

TEST(CompareAndWrite, ParsesLbaBlocksAndFua) {
  const auto c = parse_compare_and_write(cdb(0x1234, 8, 0x08), 2 * 8 * 512, facts());
  EXPECT_FALSE(c.sense);
  EXPECT_EQ(c.lba, 0x1234u);
  EXPECT_EQ(c.nr_blocks, 8u);
  EXPECT_TRUE(c.fua);
}

TEST(CompareAndWrite, LimitIsHalfATransferAndOneByte) {
  EXPECT_EQ(compare_and_write_limit(2048), 255);
  EXPECT_EQ(compare_and_write_limit(64), 32);
  LunFacts f = facts();
  f.max_compare_and_write_blocks = 16;
  const auto c = parse_compare_and_write(cdb(0, 17), 2 * 17 * 512, f);
  ASSERT_TRUE(c.sense);
  EXPECT_EQ(c.sense->asc_ascq, 0x2400);
  EXPECT_EQ(c.sense->field->byte, 13);
  EXPECT_FALSE(parse_compare_and_write(cdb(0, 16), 2 * 16 * 512, f).sense);
}

TEST(CompareAndWrite, BeyondTheEndIsOutOfRange) {
  EXPECT_FALSE(parse_compare_and_write(cdb(131072 - 2, 2), 2048, facts()).sense);
  const auto c = parse_compare_and_write(cdb(131072 - 1, 2), 2048, facts());
  ASSERT_TRUE(c.sense);
  EXPECT_EQ(c.sense->asc_ascq, 0x2100);
  EXPECT_TRUE(parse_compare_and_write(cdb(UINT64_MAX, 1), 1024, facts()).sense);  // no wrap-around
}

TEST(CompareAndWrite, DataOutMustBeVerifyPlusWrite) {
  EXPECT_TRUE(parse_compare_and_write(cdb(0, 2), 1024, facts()).sense);
  EXPECT_FALSE(parse_compare_and_write(cdb(0, 0), 0, facts()).sense);  // zero blocks, no data: nothing to do
  EXPECT_EQ(parse_compare_and_write(cdb(0, 0), 2 * 256 * 512, facts()).sense->field->byte, 13);  // 256 wrapped
}

TEST(CompareAndWrite, FirstDifferenceIsTheByteOffset) {
  std::vector<uint8_t> a(1024, 'A'), b(1024, 'A');
  EXPECT_FALSE(first_difference(a, b));
  b[700] = 'B';
  b[900] = 'B';
  EXPECT_EQ(first_difference(a, b), 700u);
  b[0] = 0;
  EXPECT_EQ(first_difference(a, b), 0u);
}

}  // namespace
}  // namespace tcmu_switch
