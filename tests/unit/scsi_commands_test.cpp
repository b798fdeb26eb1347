// Which commands the handler answers itself, and READ CAPACITY (16).
#include "scsi_commands.h"

#include <gtest/gtest.h>

#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::be;
using scsi_test::facts;

TEST(ScsiCommands, ClassifiesByOpcodeAndServiceAction) {
  auto kind = [](std::vector<uint8_t> c) { return classify(c); };
  EXPECT_EQ(kind({0x12, 0, 0, 0, 36, 0}), HandlerCommand::kFromFacts);
  EXPECT_EQ(kind({0x12, 1, 0x83, 0, 255, 0}), HandlerCommand::kPassOn);  // LIO's XCOPY reads the runner's NAA
  EXPECT_EQ(kind({0x1a, 0, 0x3f, 0, 255, 0}), HandlerCommand::kFromFacts);
  EXPECT_EQ(kind({0x5a, 0, 0x3f, 0, 0, 0, 0, 1, 0, 0}), HandlerCommand::kFromFacts);
  EXPECT_EQ(kind({0x15, 0x10, 0, 0, 24, 0}), HandlerCommand::kFromFacts);
  std::vector<uint8_t> rc16(16), lba_status(16), other_action(16), caw(16), write16(16);
  rc16[0] = lba_status[0] = other_action[0] = 0x9e;
  rc16[1] = 0x10;
  lba_status[1] = 0x12;
  other_action[1] = 0x13;
  caw[0] = 0x89;
  write16[0] = 0x8a;
  EXPECT_EQ(kind(rc16), HandlerCommand::kFromFacts);
  EXPECT_EQ(kind(lba_status), HandlerCommand::kGetLbaStatus);
  EXPECT_EQ(kind(other_action), HandlerCommand::kPassOn);
  EXPECT_EQ(kind(caw), HandlerCommand::kCompareAndWrite);
  EXPECT_EQ(kind(write16), HandlerCommand::kPassOn);
  EXPECT_EQ(kind({0x5a, 0, 0x3f, 0, 0, 0}), HandlerCommand::kPassOn);  // shorter than its group's CDB
  EXPECT_EQ(kind({}), HandlerCommand::kPassOn);
}

TEST(ScsiCommands, OnlyModeSelectReadsDataOut) {
  EXPECT_TRUE(reads_data_out(std::vector<uint8_t>{0x55, 0x10, 0, 0, 0, 0, 0, 0, 24, 0}));
  EXPECT_FALSE(reads_data_out(std::vector<uint8_t>{0x12, 0, 0, 0, 36, 0}));
}

TEST(ScsiCommands, ReadCapacity16HonoursAllocationLength) {
  std::vector<uint8_t> rc16(16);
  rc16[0] = 0x9e;
  rc16[1] = 0x10;
  rc16[13] = 32;
  const auto a = answer_from_facts(rc16, {}, facts());
  ASSERT_EQ(a.data.size(), 32u);
  EXPECT_EQ(be(a.data, 0, 8), 131071u);
  EXPECT_EQ(a.data[14], 0xc0);
  rc16[13] = 12;
  EXPECT_EQ(answer_from_facts(rc16, {}, facts()).data.size(), 12u);
}

TEST(ScsiCommands, WriteSameBeyondTheAdvertisedLimitIsRefused) {
  std::vector<uint8_t> ws16(16), ws10(10);
  ws16[0] = 0x93;
  ws10[0] = 0x41;
  EXPECT_EQ(classify(ws16), HandlerCommand::kWriteSame);
  EXPECT_EQ(classify(ws10), HandlerCommand::kWriteSame);
  LunFacts f = facts();
  f.max_write_same_blocks = 0x1000;
  ws16[12] = 0x10;  // 0x1000 blocks: the limit itself
  EXPECT_FALSE(write_same_beyond_limit(ws16, f));
  ws16[13] = 1;
  const auto s16 = write_same_beyond_limit(ws16, f);
  ASSERT_TRUE(s16);
  EXPECT_EQ(s16->field->byte, 10);
  ws10[7] = 0x10;
  ws10[8] = 0x01;
  EXPECT_EQ(write_same_beyond_limit(ws10, f)->field->byte, 7);
}

TEST(ScsiCommands, VerifyIsOurs) {
  EXPECT_EQ(classify(std::vector<uint8_t>{0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0}), HandlerCommand::kVerify);
  std::vector<uint8_t> v16(16);
  v16[0] = 0x8f;
  EXPECT_EQ(classify(v16), HandlerCommand::kVerify);
}

TEST(ScsiCommands, SyncCacheRangeMustLieInTheLun) {
  std::vector<uint8_t> sc16(16), sc10(10);
  sc16[0] = 0x91;
  sc10[0] = 0x35;
  EXPECT_EQ(classify(sc16), HandlerCommand::kSyncCache);
  EXPECT_EQ(classify(sc10), HandlerCommand::kSyncCache);
  EXPECT_FALSE(sync_cache_out_of_range(sc16, facts()));  // LBA 0, 0 blocks: the whole LUN
  sc16[9] = 0xff;                                         // LBA 255
  sc16[12] = 0x02;                                        // 512 blocks
  EXPECT_FALSE(sync_cache_out_of_range(sc16, facts()));
  sc16[2] = 1;  // LBA 2^56 + 255
  const auto beyond = sync_cache_out_of_range(sc16, facts());
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->asc_ascq, 0x2100);
  sc10[3] = 0x01;  // LBA 65537
  sc10[5] = 0x01;
  sc10[7] = 0xff;  // 65535 blocks: up to the last block exactly
  sc10[8] = 0xff;
  EXPECT_FALSE(sync_cache_out_of_range(sc10, facts()));
  sc10[5] = 0x02;  // one block further
  EXPECT_TRUE(sync_cache_out_of_range(sc10, facts()));
}

}  // namespace
}  // namespace tcmu_switch
