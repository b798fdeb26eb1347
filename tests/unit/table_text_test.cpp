#include "table_text.h"

#include <gtest/gtest.h>

#include <random>

#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;

TableGeometry geometry(uint32_t nr_paths, uint64_t nr_regions,
                       DefaultMapping def = DefaultMapping::round_robin()) {
  return {nr_paths, 128, nr_regions, def};
}

std::unique_ptr<RegionTable> parse_ok(std::string_view text, const TableGeometry& g) {
  auto t = parse_table_text(text, g);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(t).value() : nullptr;
}

std::string parse_error(std::string_view text, const TableGeometry& g) {
  auto t = parse_table_text(text, g);
  EXPECT_FALSE(t.ok()) << "accepted: " << text;
  return t.ok() ? "" : t.status().message();
}

std::vector<uint32_t> paths(const RegionTable& t, uint64_t first, uint64_t n) {
  return t.read_range(first, n);
}

// The examples of Documentation/admin-guide/device-mapper/switch.rst, verbatim.
TEST(TableTextTest, LoadsDmSwitchDocumentedSevenEntryExample) {
  auto t = parse_ok("set_region_mappings 0:0 :1 :2 :0 :1 :2 :1",
                    geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 0, 8), (std::vector<uint32_t>{0, 1, 2, 0, 1, 2, 1, 0}));
  auto bare = parse_ok("0:0 :1 :2 :0 :1 :2 :1", geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_TRUE(bare->same_mapping(*t));
}

TEST(TableTextTest, LoadsDmSwitchDocumentedRepeatExampleAndItsExpansion) {
  const TableGeometry g = geometry(3, 0x2000, DefaultMapping::fixed(0));
  auto repeat = parse_ok("set_region_mappings 1000:1 :2 R2,10", g);
  auto spelled = parse_ok(
      "set_region_mappings 1000:1 :2 :1 :2 :1 :2 :1 :2 \\\n"
      "\t:1 :2 :1 :2 :1 :2 :1 :2 :1 :2\n",
      g);
  EXPECT_TRUE(repeat->same_mapping(*spelled));
  EXPECT_EQ(paths(*repeat, 0x1000, 0x12), paths(*spelled, 0x1000, 0x12));
  EXPECT_EQ(repeat->path_nr(0x1011), 2u);  // 0x1000 + 2 + 0x10 - 1
  EXPECT_EQ(repeat->path_nr(0x1012), 0u);  // untouched
}

TEST(TableTextTest, LeadingNextIndexMapsRegionOneAsInDmSwitch) {
  auto t = parse_ok(":1", geometry(3, 4, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 0, 3), (std::vector<uint32_t>{0, 1, 0}));
}

TEST(TableTextTest, NumbersAreHexInEitherCase) {
  auto t = parse_ok("aB:f 1F:A", geometry(16, 0x100, DefaultMapping::fixed(0)));
  EXPECT_EQ(t->path_nr(0xab), 15u);
  EXPECT_EQ(t->path_nr(0x1f), 10u);
}

TEST(TableTextTest, NextIndexContinuesAcrossLinesAndComments) {
  auto t = parse_ok("# header\n5:1   # first\n\n  :2\t:0\r\n:1",
                    geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 5, 4), (std::vector<uint32_t>{1, 2, 0, 1}));
}

TEST(TableTextTest, KeywordStartsANewMessageAtRegionZero) {
  auto t = parse_ok("8:1 :1\nSET_REGION_MAPPINGS :2", geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_EQ(t->path_nr(1), 2u);
  EXPECT_EQ(t->path_nr(0xa), 0u);
}

TEST(TableTextTest, LowercaseRepeatIsAccepted) {
  auto t = parse_ok("0:1 r1,3", geometry(3, 8, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 0, 5), (std::vector<uint32_t>{1, 1, 1, 1, 0}));
}

TEST(TableTextTest, RepeatCopiesCyclesItJustWrote) {
  auto t = parse_ok("0:0 :1 :2 R3,7", geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 0, 11), (std::vector<uint32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0}));
}

TEST(TableTextTest, RepeatMayReadRegionsSetBeforeTheText) {
  // dm-switch only bounds n by region_index + 1, not by the entries given.
  auto t = parse_ok("R1,2", geometry(3, 8));  // round robin: region 0 -> path 0
  EXPECT_EQ(paths(*t, 0, 4), (std::vector<uint32_t>{0, 0, 0, 0}));
}

TEST(TableTextTest, RepeatOfZeroRegionsDoesNothing) {
  auto t = parse_ok("3:1 R1,0 :2", geometry(3, 8, DefaultMapping::fixed(0)));
  EXPECT_EQ(paths(*t, 3, 2), (std::vector<uint32_t>{1, 2}));
}

TEST(TableTextTest, RepeatMayFillToTheLastRegion) {
  auto t = parse_ok("0:2 R1,f", geometry(3, 16, DefaultMapping::fixed(0)));
  EXPECT_EQ(t->regions_per_path()[2], 16u);
}

TEST(TableTextTest, EmptyTextAndCommentsLeaveTheDefault) {
  auto t = parse_ok("  \n# nothing\n", geometry(3, 100));
  EXPECT_EQ(t->entry_bytes(), 0u);
}

TEST(TableTextTest, RejectsPathBeyondNrPathsAndKeepsTable) {
  auto t = parse_ok("0:1", geometry(3, 0x2000));
  const std::vector<uint32_t> before = paths(*t, 0, 0x2000);
  Status s = apply_text("0:2\n:2\n1:0 1000:7", *t);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(mentions(s.message(), "line 3, column 5: entry \"1000:7\": path 7 >= nr_paths 3"));
  EXPECT_EQ(paths(*t, 0, 0x2000), before);
}

TEST(TableTextTest, RejectsRegionPastTheEndNamingItInHexAndDecimal) {
  EXPECT_EQ(parse_error("0:0\n  1000:1", geometry(3, 0x1000)),
            "line 2, column 3: entry \"1000:1\": region 0x1000 (4096) >= nr_regions 4096");
  EXPECT_EQ(parse_error("f:0 :1", geometry(3, 16)),
            "line 1, column 5: entry \":1\": region 0x10 (16) >= nr_regions 16");
}

TEST(TableTextTest, RejectsBadHexNamingTheEntry) {
  EXPECT_EQ(parse_error("0:0 1g:1", geometry(3, 16)),
            "line 1, column 5: entry \"1g:1\": expected ':' after the region index, found \"g:1\"");
  EXPECT_EQ(parse_error("0:0x1", geometry(3, 16)),
            "line 1, column 1: entry \"0:0x1\": expected the end of the entry after the path "
            "number, found \"x1\"");
  EXPECT_EQ(
      parse_error("0x10:1", geometry(3, 16)),
      "line 1, column 1: entry \"0x10:1\": expected ':' after the region index, found \"x10:1\"");
  EXPECT_EQ(parse_error("zz", geometry(3, 16)),
            "line 1, column 1: entry \"zz\": expected \"index:path_nr\", \":path_nr\" or \"Rn,m\"");
}

TEST(TableTextTest, RejectsEmptyNumbers) {
  EXPECT_EQ(parse_error("5:", geometry(3, 16)),
            "line 1, column 1: entry \"5:\": expected hex digits for the path number, found the "
            "end of the entry");
  EXPECT_EQ(parse_error(": :1", geometry(3, 16)),
            "line 1, column 1: entry \":\": expected hex digits for the path number, found the end "
            "of the entry");
  EXPECT_EQ(parse_error("5", geometry(3, 16)),
            "line 1, column 1: entry \"5\": expected ':' after the region index, found the end of "
            "the entry");
  EXPECT_EQ(
      parse_error("0:1 R,2", geometry(3, 16)),
      "line 1, column 5: entry \"R,2\": expected hex digits for the cycle length, found \",2\"");
  EXPECT_EQ(parse_error("0:1 R1,", geometry(3, 16)),
            "line 1, column 5: entry \"R1,\": expected hex digits for the count, found the end of "
            "the entry");
  EXPECT_EQ(parse_error("0:1 R1", geometry(3, 16)),
            "line 1, column 5: entry \"R1\": expected ',' after the cycle length, found the end of "
            "the entry");
  EXPECT_EQ(
      parse_error("0:1 R", geometry(3, 16)),
      "line 1, column 5: entry \"R\": expected hex digits for the cycle length, found the end "
      "of the entry");
}

TEST(TableTextTest, RejectsNumbersThatOverflow64Bits) {
  EXPECT_EQ(parse_error("10000000000000000:1", geometry(3, 16)),
            "line 1, column 1: entry \"10000000000000000:1\": region index 10000000000000000 does "
            "not fit in 64 bits");
  // A wrapped value would be 0: dm-switch's parse_hex would take it.
  EXPECT_NE(parse_error("0:10000000000000000", geometry(3, 16))
                .find("path number 10000000000000000 does not fit"),
            std::string::npos);
  auto max = parse_error("ffffffffffffffff:1", geometry(3, 16));
  EXPECT_NE(max.find("region 0xffffffffffffffff (18446744073709551615) >= nr_regions 16"),
            std::string::npos);
}

TEST(TableTextTest, RejectsRepeatWithNothingToRepeat) {
  EXPECT_EQ(parse_error("0:1 R0,3", geometry(3, 16)),
            "line 1, column 5: entry \"R0,3\": cycle length 0: nothing to repeat");
  EXPECT_EQ(parse_error("R2,1", geometry(3, 16)),
            "line 1, column 1: entry \"R2,1\": cycle length 2 > region_index + 1 = 1: it reaches "
            "before region 0");
  EXPECT_EQ(parse_error("0:0 :1 :2 R4,1", geometry(3, 16)),
            "line 1, column 11: entry \"R4,1\": cycle length 4 > region_index + 1 = 3: it reaches "
            "before region 0");
}

TEST(TableTextTest, RejectsRepeatPastTheEnd) {
  EXPECT_EQ(parse_error("e:1 R1,2", geometry(3, 16)),
            "line 1, column 5: entry \"R1,2\": region_index 0xe (14) + count 2 >= nr_regions 16");
  EXPECT_NE(
      parse_error("0:1 R1,ffffffffffffffff", geometry(3, 16)).find("+ count 0xffffffffffffffff"),
      std::string::npos);
}

TEST(TableTextTest, RejectsJunkAfterARepeat) {
  EXPECT_EQ(parse_error("0:1 R1,2,3", geometry(3, 16)),
            "line 1, column 5: entry \"R1,2,3\": expected the end of the entry after the count, "
            "found \",3\"");
}

TEST(TableTextTest, RejectsCommentGluedToAnEntry) {
  EXPECT_EQ(parse_error("0:1#x", geometry(3, 16)),
            "line 1, column 1: entry \"0:1#x\": expected the end of the entry after the path "
            "number, found \"#x\"");
}

TEST(TableTextTest, RejectsBackslashThatDoesNotEndALine) {
  EXPECT_EQ(parse_error("0:1 \\ :2", geometry(3, 16)),
            "line 1, column 5: entry \"\\\": expected \"index:path_nr\", \":path_nr\" or \"Rn,m\"");
}

TEST(TableTextTest, QuotesOnlyTheStartOfAVeryLongEntry) {
  const std::string msg = parse_error(std::string(60, '1') + ":1", geometry(3, 16));
  EXPECT_NE(msg.find("entry \"" + std::string(48, '1') + "...\""), std::string::npos) << msg;
}

TEST(TableTextTest, ApplyTextUpdatesOnlyTheGivenRegions) {
  auto t = parse_ok("", geometry(4, 200000));
  ASSERT_TRUE(apply_text("1000:3 :3", *t).ok());
  EXPECT_EQ(t->path_nr(0x1000), 3u);
  EXPECT_EQ(t->path_nr(0x1001), 3u);
  EXPECT_EQ(t->path_nr(0x1002), 0x1002u % 4);
}

TEST(TableTextTest, ApplyTextLeavesAClonedSourceAlone) {
  auto base = parse_ok("0:2", geometry(3, 100));
  auto next = base->clone();
  ASSERT_TRUE(apply_text("0:1 :1", *next).ok());
  EXPECT_EQ(base->path_nr(0), 2u);
  EXPECT_EQ(next->path_nr(0), 1u);
}

std::unique_ptr<RegionTable> random_table(uint32_t nr_paths, uint64_t nr_regions, uint64_t seed,
                                          DefaultMapping def = DefaultMapping::round_robin()) {
  auto t = RegionTable::create(geometry(nr_paths, nr_regions, def)).value();
  std::mt19937_64 rng(seed);
  // Runs of random length and random paths, some long, some cyclic.
  uint64_t r = 0;
  while (r < nr_regions) {
    const uint64_t run = 1 + rng() % 40;
    const uint64_t kind = rng() % 3;
    const uint32_t p = static_cast<uint32_t>(rng() % nr_paths);
    for (uint64_t i = 0; i < run && r < nr_regions; i++, r++) {
      if (kind == 0)
        t->set_unchecked(r, p);
      else if (kind == 1)
        t->set_unchecked(r, static_cast<uint32_t>(rng() % nr_paths));
      else
        t->set_unchecked(r, static_cast<uint32_t>((p + i) % nr_paths));
    }
  }
  return t;
}

void expect_round_trip(const RegionTable& t, const TextFormatOptions& options) {
  const std::string text = format_table_text(t, options);
  // A different default proves the text does not depend on it.
  auto other_default = t.geometry();
  other_default.default_mapping = DefaultMapping::fixed(t.nr_paths() - 1);
  auto back = parse_table_text(text, other_default);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back.value()->same_mapping(t));
  EXPECT_EQ(format_table_text(*back.value(), options), text);
}

TEST(TableTextTest, CompactTextRoundTripsLosslessly) {
  for (uint32_t nr_paths : {1u, 2u, 3u, 7u, 16u, 200u, 256u}) {
    SCOPED_TRACE(nr_paths);
    expect_round_trip(*random_table(nr_paths, 70000 + nr_paths, nr_paths), {});
  }
}

TEST(TableTextTest, ExpandedTextRoundTripsLosslessly) {
  TextFormatOptions expand;
  expand.expand = true;
  expect_round_trip(*random_table(5, 3000, 42), expand);
}

TEST(TableTextTest, RoundRobinDumpsAsOneRepeat) {
  auto t = RegionTable::create(geometry(3, 1572864)).value();
  TextFormatOptions bare;
  bare.geometry_comment = false;
  EXPECT_EQ(format_table_text(*t, bare), "0:0 :1 :2 R3,17fffd\n");
}

TEST(TableTextTest, RunsDumpAsSingleRegionRepeats) {
  auto t = parse_ok("0:1 R1,9 :2 R1,9", geometry(3, 20, DefaultMapping::fixed(0)));
  TextFormatOptions bare;
  bare.geometry_comment = false;
  EXPECT_EQ(format_table_text(*t, bare), "0:1 R1,9 :2 R1,9\n");
}

TEST(TableTextTest, ExpandedTextIsOneAbsoluteEntryPerLine) {
  auto t = parse_ok("0:1 :2 :0", geometry(3, 3));
  TextFormatOptions expand;
  expand.expand = true;
  expand.geometry_comment = false;
  EXPECT_EQ(format_table_text(*t, expand), "0:1\n1:2\n2:0\n");
}

TEST(TableTextTest, GeometryCommentNamesTheGeometry) {
  auto t = parse_ok("", geometry(3, 0x1000));
  EXPECT_EQ(format_table_text(*t).substr(0, format_table_text(*t).find('\n')),
            "# tcmu-switch region table: nr_paths 3, region_sectors 128, nr_regions 0x1000 (4096); "
            "entries are hex");
}

TEST(TableTextTest, EveryCompactLineIsAStandaloneDmSwitchMessage) {
  auto t = random_table(3, 5000, 7);
  TextFormatOptions bare;
  bare.geometry_comment = false;
  const std::string text = format_table_text(*t, bare);
  // Apply each line as its own message (region_index back at 0 each time).
  auto rebuilt = RegionTable::create(t->geometry()).value();
  size_t start = 0;
  int lines = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const std::string line = text.substr(start, nl - start);
    ASSERT_TRUE(apply_text("set_region_mappings " + line, *rebuilt).ok()) << line;
    EXPECT_LE(line.size(), 100u);
    start = nl + 1;
    lines++;
  }
  EXPECT_GT(lines, 10);
  EXPECT_TRUE(rebuilt->same_mapping(*t));
}

TEST(TableTextTest, MutatedTextIsEitherAppliedOrRejectedWithoutChangingTheTable) {
  const std::string valid = "# t\n0:0 :1 :2 R3,20 40:2 r1,4\nset_region_mappings 7:1 :0 \\\n:2\n";
  const std::string alphabet = "0123456789abcdefRr:, \n\t#\\xg";
  std::mt19937_64 rng(11);
  int rejected = 0;
  for (int i = 0; i < 5000; i++) {
    std::string text = valid;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; k++)
      text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    auto t = RegionTable::create(geometry(3, 0x50)).value();
    t->set_unchecked(0x4f, 1);
    const std::vector<uint32_t> before = paths(*t, 0, 0x50);
    Status s = apply_text(text, *t);
    if (!s.ok()) {
      rejected++;
      ASSERT_EQ(s.message().rfind("line ", 0), 0u) << s.message();
      ASSERT_EQ(paths(*t, 0, 0x50), before) << text;
    } else {
      auto fresh = parse_table_text(text, geometry(3, 0x50));
      ASSERT_TRUE(fresh.ok()) << text;
      for (uint32_t p : paths(*t, 0, 0x50)) ASSERT_LT(p, 3u);
    }
  }
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace tcmu_switch
