// INQUIRY as the handler answers it: standard data, VPD pages, bad CDBs.
#include "inquiry_pages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::be;
using scsi_test::decode;
using scsi_test::facts;

ScsiAnswer inquiry(uint8_t flags, uint8_t page, uint16_t alloc = 255) {
  const std::vector<uint8_t> cdb = {0x12, flags, page, static_cast<uint8_t>(alloc >> 8), static_cast<uint8_t>(alloc), 0};
  return answer_inquiry(cdb, facts());
}

TEST(InquiryPages, StandardDataClaimsSpc4AndSbc3) {
  const auto a = inquiry(0, 0);
  ASSERT_TRUE(a.good());
  ASSERT_EQ(a.data.size(), 96u);
  EXPECT_EQ(a.data[0], 0);     // direct access
  EXPECT_EQ(a.data[2], 0x06);  // SPC-4
  EXPECT_EQ(a.data[3], 0x02);
  EXPECT_EQ(a.data[4], 91);    // additional length
  EXPECT_EQ(a.data[7], 0x02);  // CMDQUE
  EXPECT_EQ(std::string(a.data.begin() + 8, a.data.begin() + 36), "LIO-ORG TCMU device     0002");
  EXPECT_EQ(be(a.data, 62, 2), 0x04c0u);  // SBC-3
}

TEST(InquiryPages, AllocationLengthCutsTheData) {
  EXPECT_EQ(inquiry(0, 0, 5).data.size(), 5u);
  EXPECT_EQ(inquiry(0, 0, 512).data.size(), 96u);  // 16-bit length; never more than there is
  EXPECT_EQ(inquiry(1, 0x83, 10).data.size(), 10u);
}

TEST(InquiryPages, SupportedPagesListsEachAnsweredPage) {
  const auto a = inquiry(1, 0x00);
  ASSERT_TRUE(a.good());
  const std::vector<uint8_t> pages(a.data.begin() + 4, a.data.end());
  EXPECT_EQ(pages, (std::vector<uint8_t>{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2}));
  for (uint8_t p : pages) EXPECT_TRUE(inquiry(1, p).good()) << int(p);
}

TEST(InquiryPages, SerialIsTheWwnWithItsNul) {
  const auto a = inquiry(1, 0x80);
  EXPECT_EQ(a.data[3], facts().unit_serial.size() + 1);
  EXPECT_EQ(std::string(a.data.begin() + 4, a.data.begin() + 4 + a.data[3] - 1), facts().unit_serial);
  EXPECT_EQ(a.data.back(), 0);
}

TEST(InquiryPages, NaaIsDerivedFromTheSerialAsLioDoes) {
  const auto a = inquiry(1, 0x83);
  ASSERT_TRUE(a.good());
  EXPECT_EQ(be(a.data, 2, 2), a.data.size() - 4);
  // First designator: T10 vendor ID "LIO-ORG " + serial + NUL.
  EXPECT_EQ(a.data[5], 0x01);
  const size_t t10 = a.data[7];
  EXPECT_EQ(std::string(a.data.begin() + 8, a.data.begin() + 16), "LIO-ORG ");
  // Second: NAA 6h, OpenFabrics company ID 001405, then the serial's hex
  // digits, one nibble each: 6 b 5 e 3 f 1 a 0 c 2 d ... (dashes skipped).
  const size_t naa = 8 + t10 + 4;  // after the first designator and the NAA one's header
  EXPECT_EQ(a.data[naa - 4 + 1], 0x03);
  EXPECT_EQ(a.data[naa - 4 + 3], 16);
  const std::vector<uint8_t> expected = {0x60, 0x01, 0x40, 0x56, 0xb5, 0xe3, 0xf1, 0xa0,
                                         0xc2, 0xd4, 0xe5, 0xf8, 0xa9, 0xb0, 0x12, 0x34};
  EXPECT_EQ(std::vector<uint8_t>(a.data.begin() + naa, a.data.begin() + naa + 16), expected);
}

TEST(InquiryPages, BlockLimitsAreTheLunsLimits) {
  const auto a = inquiry(1, 0xb0);
  ASSERT_EQ(a.data.size(), 64u);
  EXPECT_EQ(be(a.data, 2, 2), 0x3cu);
  EXPECT_EQ(a.data[4], 0x01);              // WSNZ
  EXPECT_EQ(a.data[5], 255);               // MAXIMUM COMPARE AND WRITE LENGTH
  EXPECT_EQ(be(a.data, 6, 2), 128u);       // OPTIMAL TRANSFER LENGTH GRANULARITY: the region
  EXPECT_EQ(be(a.data, 8, 4), 2048u);      // MAXIMUM TRANSFER LENGTH
  EXPECT_EQ(be(a.data, 20, 4), 131072u);   // MAXIMUM UNMAP LBA COUNT
  EXPECT_EQ(be(a.data, 24, 4), 4u);        // descriptors
  EXPECT_EQ(be(a.data, 28, 4), 128u);      // OPTIMAL UNMAP GRANULARITY
  EXPECT_EQ(be(a.data, 32, 4), 0x80000080u);  // UGAVALID | alignment
  EXPECT_EQ(be(a.data, 36, 8), 131072u);   // MAXIMUM WRITE SAME LENGTH
}

TEST(InquiryPages, HugeRegionLeavesGranularityUnreported) {
  LunFacts f = facts();
  f.optimal_granularity_blocks = 1 << 20;
  const std::vector<uint8_t> cdb = {0x12, 1, 0xb0, 0, 255, 0};
  const auto a = answer_inquiry(cdb, f);
  EXPECT_EQ(be(a.data, 6, 2), 0u);
  EXPECT_EQ(be(a.data, 28, 4), 1u << 20);
}

TEST(InquiryPages, ProvisioningPageFollowsLbprz) {
  EXPECT_EQ(inquiry(1, 0xb2).data[5], 0xe4);
  LunFacts f = facts();
  f.lbprz = false;
  const std::vector<uint8_t> cdb = {0x12, 1, 0xb2, 0, 255, 0};
  EXPECT_EQ(answer_inquiry(cdb, f).data[5], 0xe0);
}

TEST(InquiryPages, BadCdbsPointAtTheField) {
  auto d = decode(inquiry(1, 0x99));  // no such VPD page
  EXPECT_EQ(d.key, 0x05);
  EXPECT_EQ(d.asc_ascq, 0x2400);
  EXPECT_EQ(d.field_byte, 2);
  EXPECT_TRUE(d.in_cdb);
  d = decode(inquiry(0, 0x80));  // page code without EVPD
  EXPECT_EQ(d.field_byte, 2);
  d = decode(inquiry(2, 0));  // CMDDT
  EXPECT_EQ(d.field_byte, 1);
  EXPECT_EQ(d.field_bit, 1);
}

}  // namespace
}  // namespace tcmu_switch
