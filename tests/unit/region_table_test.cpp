#include "region_table.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <atomic>

#include "table_slot.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;

std::unique_ptr<RegionTable> make_table(uint32_t nr_paths, uint64_t nr_regions,
                                        DefaultMapping def = DefaultMapping::round_robin(),
                                        uint64_t region_sectors = 128) {
  auto t = RegionTable::create({nr_paths, region_sectors, nr_regions, def});
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

TEST(RegionTableTest, EntryBitsMatchDmSwitch) {
  EXPECT_EQ(entry_bits_for(1), 1u);
  EXPECT_EQ(entry_bits_for(2), 1u);
  EXPECT_EQ(entry_bits_for(3), 2u);
  EXPECT_EQ(entry_bits_for(4), 2u);
  EXPECT_EQ(entry_bits_for(5), 3u);
  EXPECT_EQ(entry_bits_for(8), 3u);
  EXPECT_EQ(entry_bits_for(9), 4u);
  EXPECT_EQ(entry_bits_for(256), 8u);
}

TEST(RegionTableTest, DefaultIsRoundRobinAndAllocatesNothing) {
  auto t = make_table(3, 1000);
  for (uint64_t r = 0; r < 1000; r++) ASSERT_EQ(t->path_nr(r), r % 3);
  EXPECT_EQ(t->entry_bytes(), 0u);
}

// The default chunk lookup divides by a reciprocal: check it against % for
// every path count, on both sides of 2^32 regions where it switches method.
TEST(RegionTableTest, RoundRobinDefaultMatchesModuloForEveryPathCount) {
  std::mt19937_64 rng(5);
  const uint64_t nr = (uint64_t{1} << 32) + RegionTable::kChunkRegions;
  for (uint32_t paths = 1; paths <= kMaxPaths; paths++) {
    auto t = make_table(paths, nr);
    for (uint64_t r : {uint64_t{0}, uint64_t{paths}, uint64_t{UINT32_MAX}, uint64_t{UINT32_MAX} + 1, nr - 1})
      ASSERT_EQ(t->path_nr(r), r % paths) << paths << " paths, region " << r;
    for (int i = 0; i < 1000; i++) {
      const uint64_t r = rng() % nr;
      ASSERT_EQ(t->path_nr(r), r % paths) << paths << " paths, region " << r;
    }
  }
}

TEST(RegionTableTest, FixedDefaultRoutesEverythingToOnePath) {
  auto t = make_table(5, 200000, DefaultMapping::fixed(4));
  EXPECT_EQ(t->path_nr(0), 4u);
  EXPECT_EQ(t->path_nr(199999), 4u);
  EXPECT_EQ(t->regions_per_path()[4], 200000u);
}

TEST(RegionTableTest, RejectsBadGeometryWithNamedField) {
  auto zero_paths = RegionTable::create({0, 128, 10, {}});
  ASSERT_FALSE(zero_paths.ok());
  EXPECT_NE(zero_paths.status().message().find("nr_paths 0"), std::string::npos);
  auto too_many = RegionTable::create({257, 128, 10, {}});
  EXPECT_NE(too_many.status().message().find("nr_paths 257"), std::string::npos);
  auto zero_region = RegionTable::create({3, 0, 10, {}});
  EXPECT_NE(zero_region.status().message().find("region size is 0"), std::string::npos);
  auto bad_default = RegionTable::create({3, 128, 10, DefaultMapping::fixed(3)});
  EXPECT_NE(bad_default.status().message().find("default path 3 >= nr_paths 3"), std::string::npos);
}

TEST(RegionTableTest, SetRejectsOutOfRangeAndKeepsTable) {
  auto t = make_table(3, 100);
  const struct {
    uint64_t region_nr;
    uint32_t path_nr;
    const char* substring;
  } cases[] = {
      {100, 0, "region 100 >= nr_regions 100"},
      {5, 3, "path 3 >= nr_paths 3"},
  };
  for (const auto& c : cases) EXPECT_TRUE(mentions(t->set(c.region_nr, c.path_nr).message(), c.substring));
  EXPECT_EQ(t->entry_bytes(), 0u);
  EXPECT_EQ(t->path_nr(5), 2u);
}

// Every path count from 1 to 256 packs and unpacks every entry, including the
// widths whose entries per word are not a power of two (3, 5, 6, 7 bits).
TEST(RegionTableTest, RandomMappingsRoundTripForEveryPathCount) {
  std::mt19937_64 rng(42);
  for (uint32_t paths = 1; paths <= kMaxPaths; paths++) {
    const uint64_t nr = RegionTable::kChunkRegions + 777;  // a full and a partial chunk
    auto t = make_table(paths, nr);
    std::vector<uint32_t> expect(nr);
    for (uint64_t r = 0; r < nr; r++) {
      expect[r] = static_cast<uint32_t>(rng() % paths);
      t->set_unchecked(r, expect[r]);
    }
    for (uint64_t r = 0; r < nr; r++) ASSERT_EQ(t->path_nr(r), expect[r]) << paths << " paths, region " << r;
    ASSERT_TRUE(t->check_chunk(0).ok());
    ASSERT_TRUE(t->check_chunk(1).ok());
  }
}

TEST(RegionTableTest, SparseTableAllocatesOnlyTouchedChunks) {
  const uint64_t nr = 100 * RegionTable::kChunkRegions;
  auto t = make_table(3, nr);
  ASSERT_TRUE(t->set(50 * RegionTable::kChunkRegions + 7, 0).ok());
  EXPECT_EQ(t->entry_bytes(), RegionTable::kChunkRegions / 32 * sizeof(uint64_t));
  EXPECT_TRUE(t->chunk_present(50));
  EXPECT_FALSE(t->chunk_present(49));
  // The rest of the touched chunk still follows round robin.
  EXPECT_EQ(t->path_nr(50 * RegionTable::kChunkRegions + 8), (50 * RegionTable::kChunkRegions + 8) % 3);
}

TEST(RegionTableTest, DenseTableOfOnePointFiveMillionRegionsWithThreePathsIs384KiB) {
  const uint64_t nr = 1572864;
  auto t = make_table(3, nr);
  for (uint64_t r = 0; r < nr; r++) t->set_unchecked(r, static_cast<uint32_t>((r / 7) % 3));
  EXPECT_EQ(t->entry_bytes(), 384u * 1024);
}

TEST(RegionTableTest, CloneIsCopyOnWrite) {
  auto t = make_table(4, 1000);
  ASSERT_TRUE(t->set(10, 1).ok());
  auto c = t->clone();
  ASSERT_TRUE(c->set(10, 3).ok());
  EXPECT_EQ(t->path_nr(10), 1u);
  EXPECT_EQ(c->path_nr(10), 3u);
  EXPECT_FALSE(t->same_mapping(*c));
  ASSERT_TRUE(c->set(10, 1).ok());
  EXPECT_TRUE(t->same_mapping(*c));
}

TEST(RegionTableTest, ResizedKeepsTheCommonRegionsAndDefaultsTheRest) {
  const uint64_t nr = 3 * RegionTable::kChunkRegions;
  auto t = make_table(3, nr);
  ASSERT_TRUE(t->set(5, 2).ok());
  ASSERT_TRUE(t->set(nr - 1, 0).ok());  // (nr - 1) % 3 == 2: not the default
  auto grown = t->resized(nr + 10);
  ASSERT_TRUE(grown.ok()) << grown.status().message();
  EXPECT_EQ(grown.value()->nr_regions(), nr + 10);
  EXPECT_EQ(grown.value()->path_nr(5), 2u);
  EXPECT_EQ(grown.value()->path_nr(nr - 1), 0u);
  for (uint64_t r = nr; r < nr + 10; r++) EXPECT_EQ(grown.value()->path_nr(r), r % 3);
  EXPECT_FALSE(grown.value()->chunk_present(1)) << "a default chunk was allocated";
  auto shrunk = t->resized(6);
  ASSERT_TRUE(shrunk.ok());
  EXPECT_EQ(shrunk.value()->nr_regions(), 6u);
  EXPECT_EQ(shrunk.value()->path_nr(5), 2u);
  EXPECT_FALSE(t->resized(0).ok());
}

TEST(RegionTableTest, RegionOfByteHandlesNonPowerOfTwoRegions) {
  auto t = make_table(3, 1000, {}, 3);  // 1536-byte regions
  EXPECT_EQ(t->region_of_byte(0), 0u);
  EXPECT_EQ(t->region_of_byte(1535), 0u);
  EXPECT_EQ(t->region_of_byte(1536), 1u);
  auto p = make_table(3, 1000, {}, 128);
  EXPECT_EQ(p->region_of_byte(65536 * 5 + 1), 5u);
}

TEST(RegionTableTest, CheckChunkNamesAnEntryBeyondNrPaths) {
  auto t = make_table(3, 100);
  auto words = t->mutable_chunk_words(0);
  words[0] |= 3;  // region 0 -> path 3
  Status s = t->check_chunk(0);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(mentions(s.message(), "region 0 maps to path 3 >= nr_paths 3"));
}

TEST(TableSlotTest, PublishBumpsGenerationAndReadersSeeWholeTables) {
  TableSlot slot(make_table(2, 4096, DefaultMapping::fixed(0)));
  EXPECT_EQ(slot.generation(), 1u);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> mixed{0};
  std::thread reader([&] {
    while (!stop.load()) {
      TableSlot::Reader r(slot);
      const uint32_t first = r.table().path_nr(0);
      for (uint64_t i = 1; i < 4096; i += 97)
        if (r.table().path_nr(i) != first) mixed++;
    }
  });
  for (int g = 0; g < 200; g++) {
    auto next = RegionTable::create({2, 128, 4096, DefaultMapping::fixed(static_cast<uint32_t>(g % 2))});
    ASSERT_TRUE(next.ok());
    slot.publish(std::move(next).value());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(mixed.load(), 0u);
  EXPECT_EQ(slot.generation(), 201u);
}

// A pin outlives its read-side section and the publishes after it: the
// pinned generation stays readable (ASan would see a use after free) and
// keeps its own mappings.
TEST(TableSlotTest, APinnedGenerationOutlivesItsReplacement) {
  TableSlot slot(make_table(2, 4096, DefaultMapping::fixed(0)));
  TableSlot::Pin pin;
  {
    TableSlot::Reader r(slot);
    pin = r.pin();
  }
  for (uint32_t g = 1; g <= 3; g++) {
    auto next = RegionTable::create({2, 128, 4096, DefaultMapping::fixed(g % 2)});
    ASSERT_TRUE(next.ok());
    slot.publish(std::move(next).value());
  }
  ASSERT_TRUE(pin);
  EXPECT_EQ(pin.table().generation(), 1u);
  EXPECT_EQ(pin.table().path_nr(4095), 0u);
  TableSlot::Pin moved = std::move(pin);
  EXPECT_FALSE(pin);
  moved.reset();
  EXPECT_FALSE(moved);
  auto last = RegionTable::create({2, 128, 4096, DefaultMapping::fixed(0)});
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(slot.publish(std::move(last).value()), 5u);  // frees the unpinned one
  TableSlot::Reader r(slot);
  EXPECT_EQ(r.table().path_nr(0), 0u);
}

}  // namespace
}  // namespace tcmu_switch
