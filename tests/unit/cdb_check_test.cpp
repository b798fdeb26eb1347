#include "cdb_check.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace tcmu_switch {
namespace {

using namespace scsi_op;

// A 16-byte CDB (longer than a 10- or 12-byte one needs; check_cdb reads
// only bytes 0 and 1) with `byte1` as its second byte.
std::array<uint8_t, 16> cdb_of(uint8_t opcode, uint8_t byte1) {
  std::array<uint8_t, 16> cdb = {};
  cdb[0] = opcode;
  cdb[1] = byte1;
  return cdb;
}

std::string verdict_of(uint8_t opcode, uint8_t byte1) {
  const CdbVerdict v = check_cdb(cdb_of(opcode, byte1));
  return v.passes() ? "pass" : v.invalid_field;
}

struct ProtectCase {
  uint8_t opcode;
  const char* field;
};

const ProtectCase kProtectCases[] = {
    {kRead10, "RDPROTECT"},           {kRead12, "RDPROTECT"},           {kRead16, "RDPROTECT"},
    {kWrite10, "WRPROTECT"},          {kWrite12, "WRPROTECT"},          {kWrite16, "WRPROTECT"},
    {kWriteAndVerify10, "WRPROTECT"}, {kWriteAndVerify12, "WRPROTECT"}, {kWriteAndVerify16, "WRPROTECT"},
    {kCompareAndWrite, "WRPROTECT"},  {kWriteSame10, "WRPROTECT"},      {kWriteSame16, "WRPROTECT"},
    {kVerify10, "VRPROTECT"},         {kVerify12, "VRPROTECT"},         {kVerify16, "VRPROTECT"},
};

TEST(CdbCheckTest, EveryNonZeroProtectValueIsAnInvalidField) {
  for (const auto& c : kProtectCases)
    for (uint8_t protect = 1; protect < 8; protect++)
      EXPECT_EQ(verdict_of(c.opcode, static_cast<uint8_t>(protect << 5)), c.field)
          << "opcode 0x" << std::hex << int{c.opcode} << " protect " << int{protect};
}

TEST(CdbCheckTest, ProtectClearPassesWhateverTheOtherBitsOfByte1) {
  // DPO (0x10) and FUA (0x08) on READ/WRITE, BYTCHK on VERIFY, UNMAP on WRITE
  // SAME: theirs to judge, not ours.
  for (const auto& c : kProtectCases) {
    EXPECT_EQ(verdict_of(c.opcode, 0x00), "pass") << "opcode 0x" << std::hex << int{c.opcode};
    if (c.opcode != kWriteSame10 && c.opcode != kWriteSame16) {
      EXPECT_EQ(verdict_of(c.opcode, 0x1f), "pass") << "opcode 0x" << std::hex << int{c.opcode};
    }
  }
}

TEST(CdbCheckTest, WriteSameWithAnchorIsAnInvalidFieldWithOrWithoutUnmap) {
  for (uint8_t opcode : {kWriteSame10, kWriteSame16}) {
    EXPECT_EQ(verdict_of(opcode, 0x10), "ANCHOR") << "opcode 0x" << std::hex << int{opcode};
    EXPECT_EQ(verdict_of(opcode, 0x18), "ANCHOR") << "opcode 0x" << std::hex << int{opcode};  // UNMAP=1
    EXPECT_EQ(verdict_of(opcode, 0x08), "pass") << "opcode 0x" << std::hex << int{opcode};    // UNMAP alone
  }
}

TEST(CdbCheckTest, AnchorBitMeansNothingOutsideWriteSame) {
  EXPECT_EQ(verdict_of(kWrite16, 0x10), "pass");  // DPO there
  EXPECT_EQ(verdict_of(kRead10, 0x10), "pass");
}

TEST(CdbCheckTest, ACdbTooShortForByte1Passes) {
  const uint8_t opcode_only[] = {kWriteSame16};
  EXPECT_TRUE(check_cdb(opcode_only).passes());
  EXPECT_TRUE(check_cdb({}).passes());
}

TEST(CdbCheckTest, OtherOpcodesPassWhateverByte1Holds) {
  constexpr uint8_t kUnmap = 0x42;            // its own ANCHOR is byte 1 bit 0, checked by the runner
  constexpr uint8_t kSynchronizeCache16 = 0x91;
  constexpr uint8_t kRead6 = 0x08;            // no protection field
  for (uint8_t opcode : {kUnmap, kSynchronizeCache16, kRead6})
    EXPECT_EQ(verdict_of(opcode, 0xff), "pass") << "opcode 0x" << std::hex << int{opcode};
}

// The field pointer the sense data carries: byte 1 and the field's top bit.
TEST(CdbCheckTest, VerdictPointsAtTheField) {
  const CdbVerdict protect = check_cdb(cdb_of(kWrite16, 0x20));
  EXPECT_EQ(protect.byte, 1);
  EXPECT_EQ(protect.bit, 7);
  const CdbVerdict anchor = check_cdb(cdb_of(kWriteSame16, 0x10));
  EXPECT_EQ(anchor.byte, 1);
  EXPECT_EQ(anchor.bit, 4);
}

}  // namespace
}  // namespace tcmu_switch
