// Fixed-format sense data as the handler's own answers send it.
#include "sense.h"

#include <gtest/gtest.h>

namespace tcmu_switch {
namespace {

TEST(Sense, InvalidFieldInCdbPointsAtByteAndBit) {
  const auto b = fixed_sense(invalid_field_in_cdb(13));
  EXPECT_EQ(b[0], 0x70);  // current, fixed, no INFORMATION
  EXPECT_EQ(b[2], 0x05);
  EXPECT_EQ(b[7], 10);
  EXPECT_EQ(b[12], 0x24);
  EXPECT_EQ(b[13], 0x00);
  EXPECT_EQ(b[15], 0xc0);  // SKSV, C/D = CDB, no bit pointer
  EXPECT_EQ(b[16], 0);
  EXPECT_EQ(b[17], 13);
  const auto bit = fixed_sense(invalid_field_in_cdb(1, 4));
  EXPECT_EQ(bit[15], 0xc0 | 0x08 | 4);  // BPV and bit 4
}

TEST(Sense, ParameterListPointerHasNoCdbFlag) {
  const auto b = fixed_sense(invalid_field_in_parameter_list(300));
  EXPECT_EQ(b[12], 0x26);
  EXPECT_EQ(b[15], 0x80);
  EXPECT_EQ(b[16] << 8 | b[17], 300);
}

TEST(Sense, MiscompareCarriesTheOffsetInInformation) {
  const auto b = fixed_sense(miscompare(0x01020304));
  EXPECT_EQ(b[0], 0xf0);  // VALID
  EXPECT_EQ(b[2], 0x0e);
  EXPECT_EQ(b[3], 1);
  EXPECT_EQ(b[4], 2);
  EXPECT_EQ(b[5], 3);
  EXPECT_EQ(b[6], 4);
  EXPECT_EQ(b[12], 0x1d);
  EXPECT_EQ(b[15], 0);  // no field pointer
}

}  // namespace
}  // namespace tcmu_switch
