#include "table_binary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "crc32c.h"
#include "table_format.h"
#include "table_text.h"

namespace tcmu_switch {
namespace {

using namespace table_format;

std::unique_ptr<RegionTable> make_table(uint32_t nr_paths, uint64_t nr_regions,
                                        DefaultMapping def = DefaultMapping::round_robin()) {
  auto t = RegionTable::create({nr_paths, 2048, nr_regions, def});
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

// Regions moved to random paths, in some chunks only (so the table is sparse).
std::unique_ptr<RegionTable> scattered_table(uint32_t nr_paths, uint64_t nr_regions, uint64_t seed,
                                             DefaultMapping def = DefaultMapping::round_robin()) {
  auto t = make_table(nr_paths, nr_regions, def);
  std::mt19937_64 rng(seed);
  for (uint64_t r = 0; r < nr_regions; r += 1 + rng() % 50000)
    for (uint64_t i = r; i < std::min(nr_regions, r + 300); i++)
      t->set_unchecked(i, static_cast<uint32_t>(rng() % nr_paths));
  return t;
}

void put32(std::string& bytes, size_t offset, uint32_t v) {
  for (int i = 0; i < 4; i++) bytes[offset + i] = static_cast<char>(v >> (8 * i));
}
void put64(std::string& bytes, size_t offset, uint64_t v) {
  for (int i = 0; i < 8; i++) bytes[offset + i] = static_cast<char>(v >> (8 * i));
}
// Recomputes the checksum after a test edits the bytes, so that the decoder
// reaches the check behind it.
void reseal(std::string& bytes) {
  put32(bytes, kCrc32cOffset,
        crc32c::value(bytes.data() + kChecksummedFrom, bytes.size() - kChecksummedFrom));
}

std::string decode_error(const std::string& bytes) {
  auto t = decode_table_binary(bytes);
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.status().message();
}

TEST(TableBinaryTest, HeaderIs64BytesAndStartsWithThePngStyleMagic) {
  EXPECT_EQ(kHeaderSize, 64u);
  const std::string bytes = encode_table_binary(*make_table(3, 10));
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89SWT\r\n\x1a\n", 8));
  EXPECT_TRUE(is_binary_table(bytes));
  EXPECT_FALSE(is_binary_table("0:1 :2"));
}

TEST(TableBinaryTest, DefaultTableIsHeaderAndBitmapOnly) {
  const std::string bytes = encode_table_binary(*make_table(3, 1572864));
  EXPECT_EQ(bytes.size(), kHeaderSize + 8);  // 24 chunks fit one bitmap word
}

TEST(TableBinaryTest, DenseTableOf1Point5MRegionsWith3PathsIs384KiBOfEntries) {
  auto t = make_table(3, 1572864);
  for (uint64_t c = 0; c < t->nr_chunks(); c++) t->mutable_chunk_words(c);
  EXPECT_EQ(encode_table_binary(*t).size(), kHeaderSize + 8 + 384 * 1024);
}

TEST(TableBinaryTest, RoundTripsSparseTablesOfEveryEntryWidth) {
  for (uint32_t nr_paths : {1u, 2u, 3u, 4u, 5u, 8u, 9u, 17u, 33u, 65u, 129u, 255u, 256u}) {
    SCOPED_TRACE(nr_paths);
    auto t = scattered_table(nr_paths, 300001, nr_paths);
    auto back = decode_table_binary(encode_table_binary(*t));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back.value()->geometry(), t->geometry());
    EXPECT_TRUE(back.value()->same_mapping(*t));
    for (uint64_t c = 0; c < t->nr_chunks(); c++)
      EXPECT_EQ(back.value()->chunk_present(c), t->chunk_present(c));
  }
}

TEST(TableBinaryTest, KeepsAFixedPathDefault) {
  auto t = scattered_table(7, 200000, 1, DefaultMapping::fixed(5));
  auto back = decode_table_binary(encode_table_binary(*t));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back.value()->geometry().default_mapping, DefaultMapping::fixed(5));
  EXPECT_TRUE(back.value()->same_mapping(*t));
}

TEST(TableBinaryTest, TextBinaryMemoryRoundTripIsLossless) {
  auto t = scattered_table(3, 200000, 9);
  auto from_text = parse_table_text(format_table_text(*t), t->geometry());
  ASSERT_TRUE(from_text.ok()) << from_text.status().message();
  auto from_binary = decode_table_binary(encode_table_binary(*from_text.value()));
  ASSERT_TRUE(from_binary.ok()) << from_binary.status().message();
  EXPECT_TRUE(from_binary.value()->same_mapping(*t));
  EXPECT_EQ(format_table_text(*from_binary.value()), format_table_text(*t));
}

TEST(TableBinaryTest, RejectsWrongMagic) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  bytes[1] = 'X';
  EXPECT_EQ(decode_error(bytes),
            "byte 0 (magic): not a tcmu-switch binary table (bad magic number)");
  EXPECT_EQ(decode_error("0:1 :2"),
            "byte 0 (magic): not a tcmu-switch binary table (bad magic number)");
}

TEST(TableBinaryTest, RejectsTruncationInsideTheHeader) {
  const std::string bytes = encode_table_binary(*make_table(3, 10));
  EXPECT_EQ(decode_error(bytes.substr(0, 5)),
            "byte 5 (header): truncated: the file has 5 bytes, needs 64");
  EXPECT_EQ(decode_error(bytes.substr(0, 40)),
            "byte 40 (header): truncated: the file has 40 bytes, needs 64");
  EXPECT_EQ(decode_error(""), "byte 0 (header): truncated: the file has 0 bytes, needs 64");
}

TEST(TableBinaryTest, RejectsUnsupportedVersion) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kVersionOffset, 2);
  EXPECT_EQ(decode_error(bytes), "byte 8 (version): unsupported version 2, this build reads 1");
}

TEST(TableBinaryTest, RejectsChecksumMismatchGivingBothValues) {
  std::string bytes = encode_table_binary(*scattered_table(3, 100000, 3));
  bytes[bytes.size() - 100] ^= 0x04;
  const uint32_t computed =
      crc32c::value(bytes.data() + kChecksummedFrom, bytes.size() - kChecksummedFrom);
  char expected[128];
  std::snprintf(expected, sizeof(expected),
                "byte 12 (crc32c): checksum mismatch: stored 0x%02x%02x%02x%02x, computed 0x%08x",
                static_cast<uint8_t>(bytes[15]), static_cast<uint8_t>(bytes[14]),
                static_cast<uint8_t>(bytes[13]), static_cast<uint8_t>(bytes[12]), computed);
  EXPECT_EQ(decode_error(bytes), expected);
}

TEST(TableBinaryTest, RejectsZeroPaths) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kNrPathsOffset, 0);
  EXPECT_EQ(decode_error(bytes), "byte 20 (nr_paths): nr_paths 0 is not in 1..256");
  put32(bytes, kNrPathsOffset, 257);
  EXPECT_EQ(decode_error(bytes), "byte 20 (nr_paths): nr_paths 257 is not in 1..256");
}

TEST(TableBinaryTest, RejectsZeroRegionSize) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put64(bytes, kRegionSectorsOffset, 0);
  EXPECT_EQ(decode_error(bytes), "byte 24 (region_sectors): region size is 0 sectors");
  put64(bytes, kRegionSectorsOffset, UINT64_MAX / 2);
  EXPECT_EQ(decode_error(bytes).rfind(
                "byte 24 (region_sectors): region size 9223372036854775807 sectors", 0),
            0u);
}

TEST(TableBinaryTest, RejectsZeroRegions) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put64(bytes, kNrRegionsOffset, 0);
  EXPECT_EQ(decode_error(bytes), "byte 32 (nr_regions): nr_regions is 0");
}

TEST(TableBinaryTest, RejectsEntryBitsInconsistentWithNrPaths) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kEntryBitsOffset, 3);
  EXPECT_EQ(decode_error(bytes),
            "byte 40 (entry_bits): entry_bits 3 does not fit nr_paths 3, which needs 2");
}

TEST(TableBinaryTest, RejectsOtherChunkSizes) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kChunkRegionsBitsOffset, 12);
  EXPECT_EQ(decode_error(bytes),
            "byte 44 (chunk_regions_bits): chunks of 2^12 regions are not supported, only 2^16");
}

TEST(TableBinaryTest, RejectsBadDefaultMapping) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kDefaultKindOffset, 2);
  EXPECT_EQ(decode_error(bytes), "byte 48 (default_kind): unknown default mapping kind 2");
  put32(bytes, kDefaultKindOffset, 1);
  put32(bytes, kDefaultPathOffset, 3);
  EXPECT_EQ(decode_error(bytes), "byte 52 (default_path_nr): default path 3 >= nr_paths 3");
  put32(bytes, kDefaultKindOffset, 0);
  EXPECT_EQ(decode_error(bytes),
            "byte 52 (default_path_nr): default path 3 given for a round-robin default; must be 0");
}

TEST(TableBinaryTest, RejectsUnknownFlags) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put32(bytes, kFlagsOffset, 4);
  EXPECT_EQ(decode_error(bytes), "byte 16 (flags): unknown flags 0x00000004");
}

TEST(TableBinaryTest, RejectsHugeNrRegionsWithoutAllocatingForIt) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  put64(bytes, kNrRegionsOffset, UINT64_MAX);
  EXPECT_EQ(decode_error(bytes),
            "byte 72 (chunk bitmap): truncated: the file has 72 bytes, needs 35184372088896");
}

TEST(TableBinaryTest, RejectsBitmapBitsPastTheLastChunk) {
  std::string bytes = encode_table_binary(*make_table(3, 100000));  // 2 chunks
  put64(bytes, kBitmapOffset, 1u << 5);
  reseal(bytes);
  EXPECT_EQ(
      decode_error(bytes),
      "byte 64 (chunk bitmap): bit for chunk 5 is set, but nr_regions 100000 makes only 2 chunks");
}

TEST(TableBinaryTest, RejectsPresentChunkCountThatDisagreesWithTheBitmap) {
  auto t = make_table(3, 100000);
  t->set_unchecked(0, 2);
  std::string bytes = encode_table_binary(*t);
  put64(bytes, kNrPresentChunksOffset, 2);
  EXPECT_EQ(decode_error(bytes),
            "byte 56 (nr_present_chunks): header says 2 chunks are present, the bitmap marks 1");
}

TEST(TableBinaryTest, RejectsTruncatedChunkNamingIt) {
  auto t = make_table(3, 200000);
  t->set_unchecked(70000, 2);  // chunk 1
  const std::string bytes = encode_table_binary(*t);
  EXPECT_EQ(decode_error(bytes.substr(0, bytes.size() - 1)),
            "byte 16455 (chunk 1): truncated: the file has 16455 bytes, needs 16456");
}

TEST(TableBinaryTest, RejectsTrailingGarbage) {
  std::string bytes = encode_table_binary(*make_table(3, 10));
  bytes += "xyz";
  EXPECT_EQ(decode_error(bytes),
            "byte 72 (end of table): trailing garbage: 3 bytes after the last chunk");
}

TEST(TableBinaryTest, RejectsEntryAtOrAboveNrPathsNamingRegionAndOffset) {
  auto t = make_table(3, 200000);
  t->set_unchecked(65536 + 100, 1);  // chunk 1 only
  std::string bytes = encode_table_binary(*t);
  // Region 65536 + 100 is entry 100 of chunk 1: word 3, entry 4 (32 per word).
  const size_t word_offset = kHeaderSize + 8 + 3 * 8;
  put64(bytes, word_offset, uint64_t{3} << 8);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), "byte 96 (chunk 1): region 65636 maps to path 3 >= nr_paths 3");
}

TEST(TableBinaryTest, RejectsBitsPastTheLastEntry) {
  auto t = make_table(5, 10);  // 3-bit entries: 21 per word, bit 63 unused
  t->set_unchecked(0, 4);
  std::string bytes = encode_table_binary(*t);
  put64(bytes, kHeaderSize + 8, uint64_t{1} << 40);  // past the 10 live entries
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes),
            "byte 72 (chunk 0): chunk 0 word 0 has bits set past its last entry");
}

TEST(TableBinaryTest, WordCheckFindsEveryBadEntryValueAtEveryWidth) {
  // Each entry value >= nr_paths, in each lane of a word, must be caught.
  for (uint32_t nr_paths : {1u, 3u, 5u, 6u, 7u, 9u, 100u, 129u, 200u, 255u}) {
    auto t = make_table(nr_paths, 64);
    t->set_unchecked(0, 0);
    const std::string good = encode_table_binary(*t);
    const uint32_t bits = t->entry_bits();
    for (uint32_t lane : {0u, 1u, 64 / bits - 1}) {
      for (uint32_t v = nr_paths; v < (1u << bits);
           v += std::max(1u, ((1u << bits) - nr_paths) / 3)) {
        std::string bytes = good;
        put64(bytes, kHeaderSize + 8, uint64_t{v} << (lane * bits));
        reseal(bytes);
        ASSERT_FALSE(decode_table_binary(bytes).ok()) << nr_paths << " lane " << lane << " v " << v;
      }
    }
    for (uint32_t v = 0; v < nr_paths; v += std::max(1u, nr_paths / 4)) {
      std::string bytes = good;
      put64(bytes, kHeaderSize + 8, uint64_t{v} << ((64 / bits - 1) * bits));
      reseal(bytes);
      ASSERT_TRUE(decode_table_binary(bytes).ok()) << nr_paths << " v " << v;
    }
  }
}

TEST(TableBinaryTest, MaterialisedDefaultChunksMatchTheDefaultAndPassTheLoaderCheck) {
  for (uint32_t nr_paths = 1; nr_paths <= kMaxPaths; nr_paths++) {
    for (DefaultMapping def :
         {DefaultMapping::round_robin(), DefaultMapping::fixed(nr_paths - 1)}) {
      auto t = make_table(nr_paths, 2 * RegionTable::kChunkRegions + 999, def);
      for (uint64_t c = 0; c < t->nr_chunks(); c++) t->mutable_chunk_words(c);
      auto back = decode_table_binary(encode_table_binary(*t));
      ASSERT_TRUE(back.ok()) << nr_paths << ": " << back.status().message();
      ASSERT_TRUE(back.value()->same_mapping(*make_table(nr_paths, t->nr_regions(), def)))
          << nr_paths;
    }
  }
}

TEST(TableBinaryTest, CorruptedBytesAreRejectedOrDecodeToAValidTable) {
  const std::string valid = encode_table_binary(*scattered_table(5, 140000, 4));
  std::mt19937_64 rng(12);
  int rejected = 0;
  for (int i = 0; i < 1000; i++) {
    std::string bytes = valid;
    // Mostly the header and bitmap, where structure lives; resealed half the
    // time so that the checks behind the checksum are reached.
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; k++) {
      const size_t at = rng() % 2 ? rng() % 96 : rng() % bytes.size();
      bytes[at] = static_cast<char>(rng());
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    if (rng() % 2 && bytes.size() >= kHeaderSize) reseal(bytes);
    auto t = decode_table_binary(bytes);
    if (!t.ok()) {
      rejected++;
      ASSERT_EQ(t.status().message().rfind("byte ", 0), 0u) << t.status().message();
      continue;
    }
    const RegionTable& table = *t.value();
    for (uint64_t r = 0; r < table.nr_regions(); r += 97)
      ASSERT_LT(table.path_nr(r), table.nr_paths());
  }
  EXPECT_GT(rejected, 800);
}

}  // namespace
}  // namespace tcmu_switch
