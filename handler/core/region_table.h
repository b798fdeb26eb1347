// RegionTable: the dm-switch page table. Maps every region of a LUN to the
// number of the path that serves it.
//
// Layout (cf. drivers/md/dm-switch.c): each entry is entry_bits wide, the
// smallest b >= 1 with 2^b >= nr_paths, and entries never straddle a 64-bit
// word, so a lookup is one word load, a shift and a mask. Words are grouped in
// chunks of 2^16 regions, allocated only where the mapping differs from the
// default (round robin, region i -> path i mod nr_paths as dm-switch starts, or
// one fixed path): a 1.5 M-region table with 3 paths is 384 KiB dense, and a
// table that only moves a few regions costs a few chunks.
//
// A table is built (create, set, chunk loads), then published through
// TableSlot and never written again; updates clone it (chunks are shared
// copy-on-write) and publish the clone as a new generation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace tcmu_switch {

inline constexpr uint32_t kMaxPaths = 256;
inline constexpr uint32_t kSectorBytes = 512;

// Where a region that no chunk covers is routed.
struct DefaultMapping {
  enum class Kind : uint8_t { kRoundRobin, kFixedPath };
  Kind kind = Kind::kRoundRobin;
  uint32_t path_nr = 0;  // kFixedPath only

  static DefaultMapping round_robin() { return {}; }
  static DefaultMapping fixed(uint32_t path_nr) { return {Kind::kFixedPath, path_nr}; }
  bool operator==(const DefaultMapping&) const = default;
};

// "round-robin" or "path:N" (N decimal), as in config files, switchtab and
// D-Bus. Parsing checks N < kMaxPaths; N < nr_paths is the caller's to check.
std::string default_mapping_name(const DefaultMapping& mapping);
Result<DefaultMapping> parse_default_mapping(std::string_view text);

struct TableGeometry {
  uint32_t nr_paths = 0;        // 1..kMaxPaths
  uint64_t region_sectors = 0;  // region size in 512-byte sectors; any value >= 1
  uint64_t nr_regions = 0;      // >= 1
  DefaultMapping default_mapping;

  // Names the first field out of range, e.g. "nr_paths 0 is not in 1..256".
  Status validate() const;
  uint64_t region_bytes() const { return region_sectors * kSectorBytes; }
  bool operator==(const TableGeometry&) const = default;
};

// Regions needed to cover size_bytes with regions of region_sectors.
uint64_t regions_for_size(uint64_t size_bytes, uint64_t region_sectors);

// Smallest b >= 1 with 2^b >= nr_paths (dm-switch's region_table_entry_bits).
uint32_t entry_bits_for(uint32_t nr_paths);

class RegionTable {
 public:
  static constexpr uint32_t kChunkRegionsBits = 16;  // regions per chunk = 65536
  static constexpr uint64_t kChunkRegions = uint64_t{1} << kChunkRegionsBits;

  // A table in which every region follows geometry.default_mapping.
  static Result<std::unique_ptr<RegionTable>> create(const TableGeometry& geometry);

  // A new, unpublished table with the same mapping; chunks are shared until
  // either side writes one.
  std::unique_ptr<RegionTable> clone() const;

  // A new, unpublished table of `nr_regions` regions: those both tables have
  // keep this table's path, the others follow the default mapping.
  Result<std::unique_ptr<RegionTable>> resized(uint64_t nr_regions) const;

  RegionTable(const RegionTable&) = delete;
  RegionTable& operator=(const RegionTable&) = delete;

  const TableGeometry& geometry() const { return geometry_; }
  uint32_t nr_paths() const { return geometry_.nr_paths; }
  uint64_t nr_regions() const { return geometry_.nr_regions; }
  uint64_t region_sectors() const { return geometry_.region_sectors; }
  uint64_t region_bytes() const { return geometry_.region_bytes(); }
  uint32_t entry_bits() const { return entry_bits_; }
  uint32_t entries_per_word() const { return entries_per_word_; }

  // Generation number of a published table (0 until TableSlot publishes it).
  uint64_t generation() const { return generation_; }

  // The hot path: no lock, no atomic read-modify-write, no allocation.
  // REQUIRES: region_nr < nr_regions().
  uint32_t path_nr(uint64_t region_nr) const noexcept {
    const uint64_t* words = chunks_[region_nr >> kChunkRegionsBits].get();
    if (words == nullptr) return default_path_nr(region_nr);
    const uint32_t idx = static_cast<uint32_t>(region_nr & (kChunkRegions - 1));
    // idx < 2^16, so the reciprocal multiply is an exact idx / entries_per_word
    // (dm-switch divides here when entries_per_word is not a power of two).
    const uint32_t word_nr = static_cast<uint32_t>((uint64_t{idx} * word_reciprocal_) >> 32);
    const uint32_t bit = (idx - word_nr * entries_per_word_) * entry_bits_;
    // A published table is immutable, so every entry holds a path < nr_paths
    // (dm-switch clamps here because it rewrites words under its readers).
    return static_cast<uint32_t>((words[word_nr] >> bit) & entry_mask_);
  }

  // Region that holds byte offset_bytes of the LUN.
  uint64_t region_of_byte(uint64_t offset_bytes) const noexcept {
    return region_bytes_bits_ >= 0 ? offset_bytes >> region_bytes_bits_
                                   : offset_bytes / region_bytes();
  }

  // Writer side; only on a table that is not published.
  // Names the region or path that is out of range.
  Status set(uint64_t region_nr, uint32_t path_nr);
  // REQUIRES: region_nr < nr_regions(), path_nr < nr_paths().
  void set_unchecked(uint64_t region_nr, uint32_t path_nr) noexcept;
  // Regions first_region, first_region + 1, ... to path_nrs[0], [1], ...:
  // one chunk look-up per chunk and one store per word, for the text parser.
  // REQUIRES: the regions are < nr_regions(), every path_nr < nr_paths().
  void set_run_unchecked(uint64_t first_region, std::span<const uint32_t> path_nrs) noexcept;

  // Chunks, for the binary format: chunk c covers regions
  // [c * kChunkRegions, min((c + 1) * kChunkRegions, nr_regions)).
  uint64_t nr_chunks() const { return chunks_.size(); }
  bool chunk_present(uint64_t chunk_nr) const { return chunks_[chunk_nr] != nullptr; }
  size_t chunk_word_count(uint64_t chunk_nr) const;
  // Empty when the chunk follows the default mapping.
  std::span<const uint64_t> chunk_words(uint64_t chunk_nr) const;
  // Materialises the chunk (filled with the default mapping) if needed. The
  // caller may overwrite the words but must keep every entry < nr_paths and
  // unused bits zero; check_chunk() verifies that.
  std::span<uint64_t> mutable_chunk_words(uint64_t chunk_nr);
  // A private chunk with indeterminate words, for a loader that overwrites
  // all of them (filling in the default first would cost more than the copy);
  // the same rules as for mutable_chunk_words() hold once it has.
  std::span<uint64_t> chunk_words_for_overwrite(uint64_t chunk_nr);
  // Names the first entry of the chunk that is >= nr_paths or a set unused bit.
  Status check_chunk(uint64_t chunk_nr) const;

  // Read back.
  std::vector<uint32_t> read_range(uint64_t first_region, uint64_t nr) const;  // REQUIRES in range
  std::vector<uint64_t> regions_per_path() const;
  // True if both tables route every region to the same path (layout aside).
  bool same_mapping(const RegionTable& other) const;
  // Bytes held by entries, and by entries plus the chunk index.
  size_t entry_bytes() const;
  size_t memory_bytes() const;

 private:
  friend class TableSlot;
  explicit RegionTable(const TableGeometry& geometry);

  uint32_t default_path_nr(uint64_t region_nr) const noexcept {
    if (geometry_.default_mapping.kind == DefaultMapping::Kind::kFixedPath)
      return geometry_.default_mapping.path_nr;
    if (region_nr > UINT32_MAX) return static_cast<uint32_t>(region_nr % geometry_.nr_paths);
    // Lemire's fastmod: exact for 32-bit numerators, a multiply instead of a
    // divide (the divide alone took lookups on default chunks past 2 ns).
    const uint64_t low = path_reciprocal_ * region_nr;
    return static_cast<uint32_t>((static_cast<unsigned __int128>(low) * geometry_.nr_paths) >> 64);
  }
  void fill_default(uint64_t chunk_nr, uint64_t* words) const;
  uint64_t* writable_chunk(uint64_t chunk_nr);
  uint64_t chunk_first_region(uint64_t chunk_nr) const { return chunk_nr << kChunkRegionsBits; }
  uint64_t chunk_regions(uint64_t chunk_nr) const;

  TableGeometry geometry_;
  uint32_t entry_bits_;
  uint32_t entries_per_word_;       // 64 / entry_bits_
  uint64_t entry_mask_;
  uint64_t word_reciprocal_;        // ceil(2^32 / entries_per_word_)
  uint64_t path_reciprocal_;        // floor((2^64 - 1) / nr_paths) + 1, for default_path_nr
  int region_bytes_bits_;           // log2(region_bytes()) or -1
  uint64_t generation_ = 0;
  mutable std::atomic<uint32_t> pins_{0};  // TableSlot::Pin holders: a retired table waits for 0
  std::vector<std::shared_ptr<uint64_t[]>> chunks_;  // null: default mapping
};

}  // namespace tcmu_switch
