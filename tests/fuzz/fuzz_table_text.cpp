// libFuzzer target: the dm-switch text table parser (table_text.h).
//
// Input: 4 bytes of geometry (nr_paths, region count, default mapping and
// whether the table spans chunks), then the text. Properties: the parser never crashes, leaks or reads out of
// bounds; an error leaves the table it was applied to unchanged; a table it
// accepts routes every region to a path < nr_paths and survives
// format_table_text() -> parse_table_text() with the same mapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "table_text.h"

using namespace tcmu_switch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  TableGeometry geometry;
  geometry.nr_paths = 1 + data[0] % 8;  // entry widths 1, 2 and 3 bits
  // Small tables keep executions fast; bit 1 of byte 3 puts the end within
  // 2048 regions either side of the second chunk boundary (65536 regions a chunk).
  const uint64_t v = (uint64_t{data[1]} << 8 | data[2]) % 4096;
  geometry.nr_regions = (data[3] & 2) ? 2 * 65536 - 2048 + v : 1 + v;
  geometry.region_sectors = 8;
  if (data[3] & 1) geometry.default_mapping = DefaultMapping::fixed((data[3] >> 2) % geometry.nr_paths);
  const std::string_view text(reinterpret_cast<const char*>(data + 4), size - 4);

  auto table = parse_table_text(text, geometry);
  if (!table.ok()) {
    FUZZ_CHECK(!table.status().message().empty());
    // apply_text() on a live-looking table must change nothing on error.
    auto fresh = RegionTable::create(geometry);
    FUZZ_CHECK(fresh.ok());
    auto before = fresh.value()->clone();
    FUZZ_CHECK(!apply_text(text, *fresh.value()).ok());
    FUZZ_CHECK(fresh.value()->same_mapping(*before));
    return 0;
  }
  const RegionTable& t = *table.value();
  FUZZ_CHECK(t.geometry() == geometry);
  // Sampled: a binary table may name 2^31 regions and stay small.
  const uint64_t stride = 1 + t.nr_regions() / 4096;
  for (uint64_t r = 0; r < t.nr_regions(); r += stride) FUZZ_CHECK(t.path_nr(r) < t.nr_paths());
  FUZZ_CHECK(t.path_nr(t.nr_regions() - 1) < t.nr_paths());

  auto again = parse_table_text(format_table_text(t), geometry);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value()->same_mapping(t));
  return 0;
}
