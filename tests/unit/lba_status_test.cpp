// GET LBA STATUS: the CDB's checks and the descriptors laid out from runs.
#include "lba_status.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "scsi_bytes.h"
#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::facts;

std::vector<uint8_t> get_lba_status(uint64_t lba, uint32_t allocation_length, uint8_t report_type = 0) {
  std::vector<uint8_t> c(16);
  c[0] = 0x9e;
  c[1] = kGetLbaStatusAction;
  put_be(c.data() + 2, lba, 8);
  put_be(c.data() + 10, allocation_length, 4);
  c[14] = report_type;
  return c;
}

// Runs of 100 blocks, mapped from block 0, deallocated from 100, mapped from
// 200, ...; every question asked is kept.
struct Alternating {
  std::vector<std::pair<uint64_t, uint64_t>> asked;
  LbaStatusSource source() {
    return [this](uint64_t lba, uint64_t max_blocks) {
      asked.emplace_back(lba, max_blocks);
      return LbaRun{std::min<uint64_t>(100 - lba % 100, max_blocks), (lba / 100) % 2 == 0};
    };
  }
};

struct Descriptor {
  uint64_t lba;
  uint64_t blocks;
  uint8_t status;
};

std::vector<Descriptor> descriptors(const ScsiAnswer& a) {
  std::vector<Descriptor> out;
  for (size_t at = 8; at + 16 <= a.data.size(); at += 16)
    out.push_back({get_be(a.data, at, 8), get_be(a.data, at + 8, 4), a.data[at + 12]});
  return out;
}

TEST(LbaStatus, OneDescriptorPerRunFromTheStartingLba) {
  Alternating paths;
  const ScsiAnswer a = answer_get_lba_status(get_lba_status(150, 8 + 3 * 16), facts(), paths.source());
  ASSERT_TRUE(a.good());
  ASSERT_EQ(a.data.size(), 8u + 3 * 16);
  EXPECT_EQ(get_be(a.data, 0, 4), 4u + 3 * 16);  // PARAMETER DATA LENGTH: the bytes after it
  const auto d = descriptors(a);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].lba, 150u);
  EXPECT_EQ(d[0].blocks, 50u);
  EXPECT_EQ(d[0].status, 1);  // deallocated
  EXPECT_EQ(d[1].lba, 200u);
  EXPECT_EQ(d[1].blocks, 100u);
  EXPECT_EQ(d[1].status, 0);  // mapped
  EXPECT_EQ(d[2].lba, 300u);
  EXPECT_EQ(d[2].status, 1);
  ASSERT_EQ(paths.asked.size(), 3u);
  EXPECT_EQ(paths.asked[0], std::make_pair(uint64_t{150}, facts().nr_blocks - 150));
}

TEST(LbaStatus, TheAllocationLengthBoundsTheLookups) {
  Alternating paths;
  const ScsiAnswer a = answer_get_lba_status(get_lba_status(0, 24), facts(), paths.source());
  EXPECT_EQ(descriptors(a).size(), 1u);
  EXPECT_EQ(paths.asked.size(), 1u);
  // A header-only allocation length still looks up one run, and cuts it off.
  const ScsiAnswer cut = answer_get_lba_status(get_lba_status(0, 4), facts(), paths.source());
  EXPECT_EQ(cut.data.size(), 4u);
  // A large one is held to kMaxLbaStatusDescriptors.
  Alternating many;
  const ScsiAnswer big = answer_get_lba_status(get_lba_status(0, 1 << 20), facts(), many.source());
  EXPECT_EQ(descriptors(big).size(), kMaxLbaStatusDescriptors);
}

TEST(LbaStatus, TheLastRunEndsAtTheLastBlock) {
  Alternating paths;
  const uint64_t last = facts().nr_blocks - 1;
  const ScsiAnswer a = answer_get_lba_status(get_lba_status(last, 1024), facts(), paths.source());
  const auto d = descriptors(a);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].lba, last);
  EXPECT_EQ(d[0].blocks, 1u);
  EXPECT_EQ(paths.asked[0].second, 1u);
}

TEST(LbaStatus, AnEmptyRunCountsOneBlockSoTheAnswerMovesOn) {
  const LbaStatusSource nothing = [](uint64_t, uint64_t) { return LbaRun{0, true}; };
  const auto d = descriptors(answer_get_lba_status(get_lba_status(10, 8 + 2 * 16), facts(), nothing));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].blocks, 1u);
  EXPECT_EQ(d[1].lba, 11u);
}

TEST(LbaStatus, BadFieldsAreRefusedWithoutALookup) {
  Alternating paths;
  const auto beyond = scsi_test::decode(answer_get_lba_status(get_lba_status(facts().nr_blocks, 24), facts(),
                                                              paths.source()));
  EXPECT_EQ(beyond.asc_ascq, 0x2100);  // LBA OUT OF RANGE
  const auto type = scsi_test::decode(answer_get_lba_status(get_lba_status(0, 24, 1), facts(), paths.source()));
  EXPECT_EQ(type.asc_ascq, 0x2400);
  EXPECT_EQ(type.field_byte, 14);
  EXPECT_TRUE(paths.asked.empty());
}

}  // namespace
}  // namespace tcmu_switch
