// EXTENDED COPY's parameter list checks.
#include "extended_copy.h"

#include "inquiry_pages.h"

#include <gtest/gtest.h>

#include <vector>

namespace tcmu_switch {
namespace {

std::vector<uint8_t> cdb_for(size_t list_length) {
  std::vector<uint8_t> c(16);
  c[0] = 0x83;
  for (int i = 0; i < 4; i++) c[10 + i] = static_cast<uint8_t>(list_length >> (24 - 8 * i));
  return c;
}

// A LID1 list: `targets` identification descriptors of type target_type,
// `segments` block-to-block descriptors (28 bytes) of type segment_type.
std::vector<uint8_t> list(size_t targets, size_t segments, uint8_t target_type = 0xe4, uint8_t segment_type = 0x02) {
  std::vector<uint8_t> p(16 + 32 * targets + 28 * segments);
  p[3] = static_cast<uint8_t>(32 * targets);
  p[2] = static_cast<uint8_t>((32 * targets) >> 8);
  p[11] = static_cast<uint8_t>(28 * segments);
  p[10] = static_cast<uint8_t>((28 * segments) >> 8);
  for (size_t t = 0; t < targets; t++) p[16 + 32 * t] = target_type;
  for (size_t s = 0; s < segments; s++) {
    p[16 + 32 * targets + 28 * s] = segment_type;
    p[16 + 32 * targets + 28 * s + 3] = 0x18;  // DESCRIPTOR LENGTH
  }
  return p;
}

int asc_of(const std::vector<uint8_t>& p, size_t length) {
  const auto s = check_extended_copy(cdb_for(length), p);
  return s ? s->asc_ascq : 0;
}

TEST(ExtendedCopy, AGoodListGoesToTheRunner) {
  const auto p = list(2, 1);
  EXPECT_EQ(asc_of(p, p.size()), 0);
  EXPECT_EQ(asc_of({}, 0), 0);  // no list: nothing to check
}

TEST(ExtendedCopy, TruncatedListsAreLengthErrors) {
  const auto p = list(1, 1);
  EXPECT_EQ(asc_of(p, 16 + 32 - 1), 0x1a00);
  EXPECT_EQ(asc_of(p, p.size() - 1), 0x1a00);
  EXPECT_EQ(asc_of(p, 8), 0x1a00);  // not even a header
}

TEST(ExtendedCopy, TooManyDescriptorsAreNamed) {
  const auto t = list(3, 1);
  EXPECT_EQ(asc_of(t, t.size()), 0x2606);
  const auto s = list(1, 2);
  EXPECT_EQ(asc_of(s, s.size()), 0x2608);
  const auto huge = list(3, 34);  // 96 + 952 bytes of descriptors > 1024
  EXPECT_EQ(asc_of(huge, huge.size()), 0x1a00);
}

TEST(ExtendedCopy, UnsupportedTypesAreNamed) {
  const auto t = list(1, 1, 0xe0);  // Fibre Channel N_Port_Name
  EXPECT_EQ(asc_of(t, t.size()), 0x2607);
  const auto s = list(1, 1, 0xe4, 0x03);  // stream-to-stream
  EXPECT_EQ(asc_of(s, s.size()), 0x2609);
}

// Designators as tcmu-runner derives them from LIO's unit serials.
void name_target(std::vector<uint8_t>& p, size_t target, const std::array<uint8_t, 16>& naa) {
  std::copy(naa.begin(), naa.end(), p.begin() + static_cast<ptrdiff_t>(16 + 32 * target + 8));
}

TEST(ExtendedCopy, ACopyNamingOnlyThisLunStaysWithin) {
  const auto ours = naa_6h("6e2ab1a9-37d4-4bb0-9d2e-8c54a4a5e1f0");
  auto p = list(2, 1);
  name_target(p, 0, ours);
  name_target(p, 1, ours);
  EXPECT_TRUE(copies_within(cdb_for(p.size()), p, ours));
}

TEST(ExtendedCopy, ACopyNamingAnotherLunDoesNotStayWithin) {
  const auto ours = naa_6h("6e2ab1a9-37d4-4bb0-9d2e-8c54a4a5e1f0");
  const auto other = naa_6h("0b7c8e1d-5a2f-4c3e-9e6d-1f2a3b4c5d6e");
  ASSERT_NE(ours, other);
  for (size_t foreign = 0; foreign < 2; foreign++) {
    auto p = list(2, 1);
    name_target(p, 0, ours);
    name_target(p, 1, ours);
    name_target(p, foreign, other);
    EXPECT_FALSE(copies_within(cdb_for(p.size()), p, ours)) << "target descriptor " << foreign;
  }
}

TEST(ExtendedCopy, NaaDesignatorIsTheCompanyIdThenTheSerialsHexDigits) {
  const auto naa = naa_6h("6e2a-b1a9");  // the dash is skipped, as LIO and the runner do
  const std::array<uint8_t, 16> expected = {0x60, 0x01, 0x40, 0x56, 0xe2, 0xab, 0x1a, 0x90};
  EXPECT_EQ(naa, expected);
}

}  // namespace
}  // namespace tcmu_switch
