// LBPRZ as the handler answers it (READ CAPACITY (16), VPD page B2h).
#include "provisioning_pages.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tcmu_switch {
namespace {

TEST(ProvisioningPages, ReadCapacityCarriesLbprzOnlyWhenTrue) {
  const auto with = read_capacity_16_data(2097152, 512, true);
  const auto without = read_capacity_16_data(2097152, 512, false);
  const std::array<uint8_t, 12> head = {0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0, 0, 2, 0};  // last LBA, 512
  EXPECT_TRUE(std::equal(head.begin(), head.end(), with.begin()));
  EXPECT_TRUE(std::equal(head.begin(), head.end(), without.begin()));
  EXPECT_EQ(with[14], 0xc0);     // LBPME | LBPRZ
  EXPECT_EQ(without[14], 0x80);  // LBPME only
}

TEST(ProvisioningPages, VpdPageCarriesLbprzOnlyWhenTrue) {
  const auto with = lbp_vpd_page(true);
  const auto without = lbp_vpd_page(false);
  EXPECT_EQ(with[1], 0xb2);
  EXPECT_EQ(with[3], 4);  // page length
  EXPECT_EQ(with[5], 0xe4);
  EXPECT_EQ(without[5], 0xe0);
}

}  // namespace
}  // namespace tcmu_switch
