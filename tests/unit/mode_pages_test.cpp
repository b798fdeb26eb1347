// MODE SENSE and MODE SELECT as the handler answers them.
#include "mode_pages.h"

#include <gtest/gtest.h>

#include <vector>

#include "scsi_test_support.h"

namespace tcmu_switch {
namespace {

using scsi_test::be;
using scsi_test::decode;
using scsi_test::facts;

ScsiAnswer sense6(uint8_t page, uint8_t flags = 0, uint8_t pc = 0, uint8_t subpage = 0, uint8_t alloc = 255,
                  const LunFacts& f = facts()) {
  const std::vector<uint8_t> cdb = {0x1a, flags, static_cast<uint8_t>(pc << 6 | page), subpage, alloc, 0};
  return answer_mode_sense(cdb, f);
}

ScsiAnswer sense10(uint8_t page, uint8_t flags = 0) {
  const std::vector<uint8_t> cdb = {0x5a, flags, page, 0, 0, 0, 0, 0x01, 0x00, 0};
  return answer_mode_sense(cdb, facts());
}

TEST(ModePages, DpoFuaIsSetInBothHeaders) {
  const auto six = sense6(0x08);
  ASSERT_TRUE(six.good());
  EXPECT_EQ(six.data[2], 0x10);
  EXPECT_EQ(six.data[3], 8);  // one short block descriptor
  EXPECT_EQ(six.data[0], six.data.size() - 1);
  const auto ten = sense10(0x08);
  ASSERT_TRUE(ten.good());
  EXPECT_EQ(ten.data[3], 0x10);
  EXPECT_EQ(be(ten.data, 0, 2), ten.data.size() - 2);
}

TEST(ModePages, CachingPageWceFollowsTheLun) {
  const auto on = sense6(0x08, 0x08);  // DBD: the page comes right after the header
  ASSERT_EQ(on.data.size(), 4u + 20);
  EXPECT_EQ(on.data[4], 0x08);
  EXPECT_EQ(on.data[5], 0x12);
  EXPECT_EQ(on.data[6], 0x04);  // WCE
  LunFacts f = facts();
  f.write_cache = false;
  EXPECT_EQ(sense6(0x08, 0x08, 0, 0, 255, f).data[6], 0x00);
}

TEST(ModePages, BlockDescriptorHoldsBlocksAndLength) {
  const auto a = sense6(0x0a);
  EXPECT_EQ(be(a.data, 4, 4), 131072u);
  EXPECT_EQ(be(a.data, 9, 3), 512u);
  EXPECT_EQ(a.data[12], 0x0a);  // control page after it
}

TEST(ModePages, AllPagesInOrderAndChangeableAreZero) {
  const auto all = sense6(0x3f, 0x08);
  ASSERT_TRUE(all.good());
  std::vector<uint8_t> codes;
  for (size_t at = 4; at < all.data.size(); at += 2 + all.data[at + 1]) codes.push_back(all.data[at]);
  EXPECT_EQ(codes, (std::vector<uint8_t>{0x01, 0x08, 0x0a, 0x1c}));
  const auto changeable = sense6(0x08, 0x08, 1);
  for (size_t i = 6; i < changeable.data.size(); i++) EXPECT_EQ(changeable.data[i], 0) << i;
}

TEST(ModePages, UnknownPageOrSubpageIsInvalidField) {
  auto d = decode(sense6(0x19));
  EXPECT_EQ(d.asc_ascq, 0x2400);
  EXPECT_EQ(d.field_byte, 2);
  EXPECT_EQ(d.field_bit, 5);
  d = decode(sense6(0x08, 0, 0, 1));
  EXPECT_EQ(d.field_byte, 3);
  d = decode(sense6(0x3f, 0, 0, 0x02));
  EXPECT_EQ(d.field_byte, 3);
}

TEST(ModePages, AllocationLengthCuts) { EXPECT_EQ(sense6(0x3f, 0, 0, 0, 10).data.size(), 10u); }

std::vector<uint8_t> select_list(std::vector<uint8_t> page) {
  std::vector<uint8_t> list(4 + page.size());  // MODE SELECT (6) header, no descriptor, then the page
  for (size_t i = 0; i < page.size(); i++) list[4 + i] = page[i];
  return list;
}

ScsiAnswer select6(const std::vector<uint8_t>& list, uint8_t flags = 0x10) {
  const std::vector<uint8_t> cdb = {0x15, flags, 0, 0, static_cast<uint8_t>(list.size()), 0};
  return answer_mode_select(cdb, list, facts());
}

std::vector<uint8_t> current_caching_page() {
  const auto a = sense6(0x08, 0x08);
  return {a.data.begin() + 4, a.data.end()};
}

TEST(ModePages, SelectTakesTheCurrentPage) { EXPECT_TRUE(select6(select_list(current_caching_page())).good()); }

TEST(ModePages, SelectRefusesAChangeNamingTheByte) {
  auto page = current_caching_page();
  page[2] = 0;  // clear WCE: not changeable
  const auto d = decode(select6(select_list(page)));
  EXPECT_EQ(d.asc_ascq, 0x2600);
  EXPECT_FALSE(d.in_cdb);
  EXPECT_EQ(d.field_byte, 4 + 2);
}

TEST(ModePages, SelectChecksCdbAndLength) {
  EXPECT_EQ(decode(select6(select_list(current_caching_page()), 0x00)).field_byte, 1);  // PF = 0
  EXPECT_EQ(decode(select6(select_list(current_caching_page()), 0x11)).field_bit, 0);   // SP
  auto truncated = select_list(current_caching_page());
  truncated.resize(10);
  EXPECT_EQ(decode(select6(truncated)).asc_ascq, 0x1a00);
  EXPECT_EQ(decode(select6(select_list({0x19, 0x02, 0, 0}))).asc_ascq, 0x2600);  // unknown page
}

}  // namespace
}  // namespace tcmu_switch
