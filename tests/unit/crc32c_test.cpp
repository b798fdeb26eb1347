#include "crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace tcmu_switch {
namespace {

// Check values from RFC 3720 (iSCSI) B.4 and the common "123456789" test.
TEST(Crc32cTest, MatchesPublishedCheckValues) {
  const std::string digits = "123456789";
  EXPECT_EQ(crc32c::value(digits.data(), digits.size()), 0xe3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::value(zeros.data(), zeros.size()), 0x8a9136aau);
  const std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::value(ones.data(), ones.size()), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; i++) ascending += static_cast<char>(i);
  EXPECT_EQ(crc32c::value(ascending.data(), ascending.size()), 0x46dd794eu);
}

TEST(Crc32cTest, TableFallbackAgreesWithTheDispatchedPathAtEveryLengthAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; i++) data += static_cast<char>(i * 7 + 3);
  for (size_t start = 0; start < 8; start++)
    for (size_t n = 0; start + n <= data.size(); n += 13)
      ASSERT_EQ(crc32c::extend_portable(0, data.data() + start, n),
                crc32c::value(data.data() + start, n))
          << start << " " << n;
}

TEST(Crc32cTest, ExtendOfPiecesEqualsValueOfTheWhole) {
  const std::string data = "a region table is a checksum and a copy away";
  const uint32_t whole = crc32c::value(data.data(), data.size());
  for (size_t cut = 0; cut <= data.size(); cut++) {
    const uint32_t first = crc32c::value(data.data(), cut);
    EXPECT_EQ(crc32c::extend(first, data.data() + cut, data.size() - cut), whole);
    EXPECT_EQ(crc32c::extend_portable(first, data.data() + cut, data.size() - cut), whole);
  }
}

}  // namespace
}  // namespace tcmu_switch
