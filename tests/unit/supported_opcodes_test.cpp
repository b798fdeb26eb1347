// REPORT SUPPORTED OPERATION CODES as the handler answers it.
#include "supported_opcodes.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::be;
using scsi_test::decode;
using scsi_test::facts;

ScsiAnswer rsoc(uint8_t options, uint8_t opcode = 0, uint16_t sa = 0, bool rctd = false) {
  const std::vector<uint8_t> cdb = {0xa3, 0x0c, static_cast<uint8_t>((rctd ? 0x80 : 0) | options), opcode,
                                    static_cast<uint8_t>(sa >> 8), static_cast<uint8_t>(sa), 0, 0, 0x10, 0, 0, 0};
  return answer_report_supported_opcodes(cdb, facts());
}

TEST(SupportedOpcodes, AllCommandsListsWhatTheLunTakes) {
  const auto a = rsoc(0);
  ASSERT_TRUE(a.good());
  EXPECT_EQ(be(a.data, 0, 4), a.data.size() - 4);
  std::set<int> opcodes;
  for (size_t at = 4; at < a.data.size(); at += 8) {
    opcodes.insert(a.data[at]);
    EXPECT_EQ(a.data[at + 5] & 0x02, 0);  // no CTDP without RCTD
  }
  for (int op : {0x28, 0x2a, 0x89, 0x2f, 0x8f, 0x93, 0x42, 0x35, 0x12, 0x1a, 0x9e, 0xa3})
    EXPECT_TRUE(opcodes.contains(op)) << std::hex << op;
  EXPECT_FALSE(opcodes.contains(0xae));  // WRITE AND VERIFY (12): tcmu-runner does not take it
}

TEST(SupportedOpcodes, RctdAddsTheTimeoutToEachDescriptor) {
  const auto a = rsoc(0, 0, 0, true);
  ASSERT_TRUE(a.good());
  ASSERT_GT(a.data.size(), 4u + 20);
  EXPECT_EQ(a.data[4 + 5] & 0x02, 0x02);     // CTDP
  EXPECT_EQ(be(a.data, 4 + 8, 2), 0x0au);    // timeouts descriptor length
  EXPECT_EQ(be(a.data, 4 + 16, 4), 30u);     // recommended: cmd_time_out
  EXPECT_EQ((a.data.size() - 4) % 20, 0u);
}

TEST(SupportedOpcodes, OneCommandCarriesDpoFuaInItsUsageData) {
  const auto a = rsoc(1, 0x2a);  // WRITE (10)
  ASSERT_TRUE(a.good());
  EXPECT_EQ(a.data[1] & 0x07, 3);  // supported
  EXPECT_EQ(be(a.data, 2, 2), 10u);
  EXPECT_EQ(a.data[4], 0x2a);
  EXPECT_EQ(a.data[5] & 0x18, 0x18);
  EXPECT_EQ(rsoc(1, 0xae).data[1] & 0x07, 1);  // not supported
  const auto t = rsoc(1, 0x89, 0, true);
  EXPECT_EQ(t.data[1] & 0x80, 0x80);  // CTDP
  EXPECT_EQ(t.data.size(), 4u + 16 + 12);
}

TEST(SupportedOpcodes, ServiceActionsMustBeAskedRightly) {
  EXPECT_EQ(decode(rsoc(1, 0x9e)).field_byte, 3);  // has service actions: option 1 is wrong
  EXPECT_EQ(decode(rsoc(2, 0x28, 0)).field_byte, 4);  // has none: option 2 is wrong
  const auto rc16 = rsoc(2, 0x9e, 0x10);
  EXPECT_EQ(rc16.data[1] & 0x07, 3);
  EXPECT_EQ(rsoc(2, 0x9e, 0x11).data[1] & 0x07, 1);
  EXPECT_EQ(rsoc(3, 0x28, 0x55).data[1] & 0x07, 3);  // option 3: the SA of an opcode without any is ignored
  const auto bad = decode(rsoc(5));
  EXPECT_EQ(bad.field_byte, 2);
  EXPECT_EQ(bad.field_bit, 2);
}

}  // namespace
}  // namespace tcmu_switch
