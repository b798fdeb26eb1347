#include "table_binary.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "crc32c.h"
#include "table_format.h"

namespace tcmu_switch {
namespace {

using namespace table_format;

// Fixed-width little-endian integers, as in LevelDB's util/coding.h.
void put_fixed32(std::string& dst, uint32_t v) {
  for (int i = 0; i < 4; i++) dst += static_cast<char>(v >> (8 * i));
}
void put_fixed64(std::string& dst, uint64_t v) {
  for (int i = 0; i < 8; i++) dst += static_cast<char>(v >> (8 * i));
}
uint32_t get_fixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get_fixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Words move as one block on little-endian hosts and a word at a time elsewhere.
void put_words(std::string& dst, std::span<const uint64_t> words) {
  if constexpr (std::endian::native == std::endian::little) {
    dst.append(reinterpret_cast<const char*>(words.data()), words.size_bytes());
  } else {
    for (uint64_t w : words) put_fixed64(dst, w);
  }
}
void get_words(const char* src, std::span<uint64_t> words) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(words.data(), src, words.size_bytes());
  } else {
    for (size_t i = 0; i < words.size(); i++) words[i] = get_fixed64(src + 8 * i);
  }
}

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

struct Header {
  uint32_t version = kVersion;
  uint32_t crc32c = 0;
  uint32_t flags = 0;
  uint32_t nr_paths = 0;
  uint64_t region_sectors = 0;
  uint64_t nr_regions = 0;
  uint32_t entry_bits = 0;
  uint32_t chunk_regions_bits = 0;
  uint32_t default_kind = 0;
  uint32_t default_path_nr = 0;
  uint64_t nr_present_chunks = 0;

  void encode_to(std::string& dst) const {
    dst.append(kMagic);
    put_fixed32(dst, version);
    put_fixed32(dst, crc32c);
    put_fixed32(dst, flags);
    put_fixed32(dst, nr_paths);
    put_fixed64(dst, region_sectors);
    put_fixed64(dst, nr_regions);
    put_fixed32(dst, entry_bits);
    put_fixed32(dst, chunk_regions_bits);
    put_fixed32(dst, default_kind);
    put_fixed32(dst, default_path_nr);
    put_fixed64(dst, nr_present_chunks);
  }
  // REQUIRES: p holds kHeaderSize bytes.
  void decode_from(const char* p) {
    version = get_fixed32(p + kVersionOffset);
    crc32c = get_fixed32(p + kCrc32cOffset);
    flags = get_fixed32(p + kFlagsOffset);
    nr_paths = get_fixed32(p + kNrPathsOffset);
    region_sectors = get_fixed64(p + kRegionSectorsOffset);
    nr_regions = get_fixed64(p + kNrRegionsOffset);
    entry_bits = get_fixed32(p + kEntryBitsOffset);
    chunk_regions_bits = get_fixed32(p + kChunkRegionsBitsOffset);
    default_kind = get_fixed32(p + kDefaultKindOffset);
    default_path_nr = get_fixed32(p + kDefaultPathOffset);
    nr_present_chunks = get_fixed64(p + kNrPresentChunksOffset);
  }
};

uint64_t bitmap_bytes_for(uint64_t nr_chunks) { return (nr_chunks + 63) / 64 * 8; }

// Tests a word at a time that every entry is < nr_paths and every bit outside
// the entries is clear. RegionTable::check_chunk() goes entry by entry, which
// is far slower than the copy, so it only explains what this finds.
//
// Even entries are tested apart from odd ones, leaving an empty entry above
// each one for its carry: adding 2^entry_bits - nr_paths carries out of an
// entry exactly when the entry is >= nr_paths.
class WordChecker {
 public:
  WordChecker(uint32_t entry_bits, uint32_t nr_paths) : entry_bits_(entry_bits) {
    const uint32_t per_word = 64 / entry_bits;
    const uint64_t entry_mask = (uint64_t{1} << entry_bits) - 1;
    const uint64_t add = (uint64_t{1} << entry_bits) - nr_paths;
    for (uint32_t i = 0; i < per_word; i += 2) {
      even_entries_ |= entry_mask << (i * entry_bits);
      add_ |= add << (i * entry_bits);
      if ((i + 1) * entry_bits < 64) carries_ |= uint64_t{1} << ((i + 1) * entry_bits);
    }
    if (add == 0) carries_ = 0;  // nr_paths is a power of two: every value is a path
  }

  // REQUIRES: bits above the live entries of w are clear.
  uint64_t bad_entry_bits(uint64_t w) const {
    return ((((w & even_entries_) + add_) | (((w >> entry_bits_) & even_entries_) + add_)) &
            carries_);
  }

 private:
  uint32_t entry_bits_;
  uint64_t even_entries_ = 0;
  uint64_t add_ = 0;
  uint64_t carries_ = 0;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  Result<std::unique_ptr<RegionTable>> decode() {
    if (Status s = check_magic_and_version(); !s.ok()) return s;
    if (in_.size() < kHeaderSize) return truncated(in_.size(), "header", kHeaderSize);
    header_.decode_from(in_.data());
    if (Status s = check_header(); !s.ok()) return s;

    Result<std::unique_ptr<RegionTable>> created = RegionTable::create(geometry());
    if (!created.ok()) return created.status();
    std::unique_ptr<RegionTable> table = std::move(created).value();
    if (Status s = check_bitmap(*table); !s.ok()) return s;
    if (Status s = check_size(*table); !s.ok()) return s;
    if (Status s = check_crc(); !s.ok()) return s;
    if (Status s = load_chunks(*table); !s.ok()) return s;
    return table;
  }

 private:
  // The one error format: where, which field, then why.
  static Status fail(uint64_t offset, std::string_view field, const std::string& why) {
    return Status::error("byte " + std::to_string(offset) + " (" + std::string(field) +
                         "): " + why);
  }
  static Status truncated(uint64_t size, std::string_view field, uint64_t needed) {
    return fail(size, field,
                "truncated: the file has " + std::to_string(size) + " bytes, needs " +
                    std::to_string(needed));
  }

  Status check_magic_and_version() const {
    const size_t n = std::min(in_.size(), kMagic.size());
    if (in_.substr(0, n) != kMagic.substr(0, n))
      return fail(kMagicOffset, "magic", "not a tcmu-switch binary table (bad magic number)");
    if (in_.size() < kVersionOffset + 4) return truncated(in_.size(), "header", kHeaderSize);
    const uint32_t version = get_fixed32(in_.data() + kVersionOffset);
    if (version != kVersion)
      return fail(kVersionOffset, "version",
                  "unsupported version " + std::to_string(version) + ", this build reads " +
                      std::to_string(kVersion));
    return {};
  }

  Status check_header() const {
    const Header& h = header_;
    if (h.flags != 0) return fail(kFlagsOffset, "flags", "unknown flags " + hex32(h.flags));
    if (h.nr_paths < 1 || h.nr_paths > kMaxPaths)
      return fail(
          kNrPathsOffset, "nr_paths",
          "nr_paths " + std::to_string(h.nr_paths) + " is not in 1.." + std::to_string(kMaxPaths));
    if (h.region_sectors == 0)
      return fail(kRegionSectorsOffset, "region_sectors", "region size is 0 sectors");
    if (h.region_sectors > UINT64_MAX / kSectorBytes)
      return fail(kRegionSectorsOffset, "region_sectors",
                  "region size " + std::to_string(h.region_sectors) +
                      " sectors does not fit a 64-bit byte count");
    if (h.nr_regions == 0) return fail(kNrRegionsOffset, "nr_regions", "nr_regions is 0");
    if (h.entry_bits != entry_bits_for(h.nr_paths))
      return fail(kEntryBitsOffset, "entry_bits",
                  "entry_bits " + std::to_string(h.entry_bits) + " does not fit nr_paths " +
                      std::to_string(h.nr_paths) + ", which needs " +
                      std::to_string(entry_bits_for(h.nr_paths)));
    if (h.chunk_regions_bits != RegionTable::kChunkRegionsBits)
      return fail(kChunkRegionsBitsOffset, "chunk_regions_bits",
                  "chunks of 2^" + std::to_string(h.chunk_regions_bits) +
                      " regions are not supported, only 2^" +
                      std::to_string(RegionTable::kChunkRegionsBits));
    if (h.default_kind == static_cast<uint32_t>(DefaultKind::kRoundRobin)) {
      if (h.default_path_nr != 0)
        return fail(kDefaultPathOffset, "default_path_nr",
                    "default path " + std::to_string(h.default_path_nr) +
                        " given for a round-robin default; must be 0");
    } else if (h.default_kind == static_cast<uint32_t>(DefaultKind::kFixedPath)) {
      if (h.default_path_nr >= h.nr_paths)
        return fail(kDefaultPathOffset, "default_path_nr",
                    "default path " + std::to_string(h.default_path_nr) + " >= nr_paths " +
                        std::to_string(h.nr_paths));
    } else {
      return fail(kDefaultKindOffset, "default_kind",
                  "unknown default mapping kind " + std::to_string(h.default_kind));
    }
    // Before RegionTable::create(), which allocates an index entry per chunk:
    // a corrupt nr_regions must not make us allocate more than the file holds.
    const uint64_t nr_chunks = (h.nr_regions >> RegionTable::kChunkRegionsBits) +
                               ((h.nr_regions & (RegionTable::kChunkRegions - 1)) != 0);
    if (in_.size() - kBitmapOffset < bitmap_bytes_for(nr_chunks))
      return truncated(in_.size(), "chunk bitmap", kBitmapOffset + bitmap_bytes_for(nr_chunks));
    return {};
  }

  TableGeometry geometry() const {
    const DefaultMapping def =
        header_.default_kind == static_cast<uint32_t>(DefaultKind::kFixedPath)
            ? DefaultMapping::fixed(header_.default_path_nr)
            : DefaultMapping::round_robin();
    return {header_.nr_paths, header_.region_sectors, header_.nr_regions, def};
  }

  bool chunk_bit(uint64_t chunk_nr) const {
    const uint64_t word = get_fixed64(in_.data() + kBitmapOffset + chunk_nr / 64 * 8);
    return (word >> (chunk_nr % 64)) & 1;
  }

  Status check_bitmap(const RegionTable& table) {
    const uint64_t nr_chunks = table.nr_chunks();
    const uint64_t nr_words = bitmap_bytes_for(nr_chunks) / 8;
    uint64_t present = 0;
    for (uint64_t w = 0; w < nr_words; w++) {
      const uint64_t offset = kBitmapOffset + w * 8;
      const uint64_t bits = get_fixed64(in_.data() + offset);
      const uint64_t chunks_here = nr_chunks - w * 64;
      const uint64_t stray = chunks_here >= 64 ? 0 : bits & (~uint64_t{0} << chunks_here);
      if (stray != 0)
        return fail(offset, "chunk bitmap",
                    "bit for chunk " + std::to_string(w * 64 + std::countr_zero(stray)) +
                        " is set, but nr_regions " + std::to_string(table.nr_regions()) +
                        " makes only " + std::to_string(nr_chunks) + " chunks");
      present += static_cast<uint64_t>(std::popcount(bits));
    }
    if (present != header_.nr_present_chunks)
      return fail(kNrPresentChunksOffset, "nr_present_chunks",
                  "header says " + std::to_string(header_.nr_present_chunks) +
                      " chunks are present, the bitmap marks " + std::to_string(present));
    body_offset_ = kBitmapOffset + nr_words * 8;
    return {};
  }

  Status check_size(const RegionTable& table) const {
    uint64_t end = body_offset_;
    for (uint64_t c = 0; c < table.nr_chunks(); c++) {
      if (!chunk_bit(c)) continue;
      end += table.chunk_word_count(c) * 8;
      if (end > in_.size()) return truncated(in_.size(), "chunk " + std::to_string(c), end);
    }
    if (end < in_.size())
      return fail(
          end, "end of table",
          "trailing garbage: " + std::to_string(in_.size() - end) + " bytes after the last chunk");
    return {};
  }

  Status check_crc() const {
    const uint32_t computed =
        crc32c::value(in_.data() + kChecksummedFrom, in_.size() - kChecksummedFrom);
    if (computed != header_.crc32c)
      return fail(
          kCrc32cOffset, "crc32c",
          "checksum mismatch: stored " + hex32(header_.crc32c) + ", computed " + hex32(computed));
    return {};
  }

  Status load_chunks(RegionTable& table) const {
    const WordChecker checker(table.entry_bits(), table.nr_paths());
    uint64_t offset = body_offset_;
    for (uint64_t c = 0; c < table.nr_chunks(); c++) {
      if (!chunk_bit(c)) continue;
      const std::span<uint64_t> words = table.chunk_words_for_overwrite(c);
      get_words(in_.data() + offset, words);
      if (Status s = check_words(table, c, words, checker, offset); !s.ok()) return s;
      offset += words.size_bytes();
    }
    return {};
  }

  static Status check_words(const RegionTable& table, uint64_t chunk_nr,
                            std::span<const uint64_t> words, const WordChecker& checker,
                            uint64_t offset) {
    const uint64_t regions_in_chunk = std::min(
        RegionTable::kChunkRegions, table.nr_regions() - chunk_nr * RegionTable::kChunkRegions);
    const uint64_t live_bits_in_last =
        (regions_in_chunk - (words.size() - 1) * table.entries_per_word()) * table.entry_bits();
    const uint64_t used_bits = uint64_t{table.entries_per_word()} * table.entry_bits();
    const uint64_t unused_mask = used_bits == 64 ? 0 : ~uint64_t{0} << used_bits;
    const uint64_t last_unused_mask =
        live_bits_in_last == 64 ? 0 : ~uint64_t{0} << live_bits_in_last;
    uint64_t bad = words.back() & last_unused_mask;
    for (uint64_t w : words) bad |= (w & unused_mask) | checker.bad_entry_bits(w);
    if (bad == 0) return {};
    // Rare: find the word for the offset, let the table name the entry.
    size_t w = 0;
    while (w + 1 < words.size() &&
           ((words[w] & unused_mask) | checker.bad_entry_bits(words[w])) == 0)
      w++;
    return fail(offset + w * 8, "chunk " + std::to_string(chunk_nr),
                table.check_chunk(chunk_nr).message());
  }

  std::string_view in_;
  Header header_;
  uint64_t body_offset_ = 0;  // first byte after the bitmap
};

}  // namespace

bool is_binary_table(std::string_view bytes) { return bytes.starts_with(kMagic); }

std::string encode_table_binary(const RegionTable& table) {
  Header h;
  h.nr_paths = table.nr_paths();
  h.region_sectors = table.region_sectors();
  h.nr_regions = table.nr_regions();
  h.entry_bits = table.entry_bits();
  h.chunk_regions_bits = RegionTable::kChunkRegionsBits;
  const DefaultMapping& def = table.geometry().default_mapping;
  h.default_kind = static_cast<uint32_t>(def.kind == DefaultMapping::Kind::kFixedPath
                                             ? DefaultKind::kFixedPath
                                             : DefaultKind::kRoundRobin);
  h.default_path_nr = def.kind == DefaultMapping::Kind::kFixedPath ? def.path_nr : 0;

  std::vector<uint64_t> bitmap(bitmap_bytes_for(table.nr_chunks()) / 8, 0);
  for (uint64_t c = 0; c < table.nr_chunks(); c++) {
    if (!table.chunk_present(c)) continue;
    bitmap[c / 64] |= uint64_t{1} << (c % 64);
    h.nr_present_chunks++;
  }

  std::string out;
  out.reserve(kHeaderSize + bitmap.size() * 8 + table.entry_bytes());
  h.encode_to(out);
  put_words(out, bitmap);
  for (uint64_t c = 0; c < table.nr_chunks(); c++)
    if (table.chunk_present(c)) put_words(out, table.chunk_words(c));

  const uint32_t crc = crc32c::value(out.data() + kChecksummedFrom, out.size() - kChecksummedFrom);
  std::string crc_bytes;
  put_fixed32(crc_bytes, crc);
  out.replace(kCrc32cOffset, 4, crc_bytes);
  return out;
}

Result<std::unique_ptr<RegionTable>> decode_table_binary(std::string_view bytes) {
  return Decoder(bytes).decode();
}

}  // namespace tcmu_switch
