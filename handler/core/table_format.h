// Layout of the binary region table, shared by its writer and its reader
// (table_binary.cpp). The prose description is doc/table_format.md.
//
// All integers are little-endian. A file is the header, the chunk presence
// bitmap (one bit per chunk of RegionTable::kChunkRegions regions, bit c of
// 64-bit word c / 64), then the packed words of every present chunk in chunk
// order, exactly as RegionTable holds them. Nothing follows the last chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcmu_switch::table_format {

// PNG's signature scheme with our initials: the high-bit first byte cannot
// start a text table and catches 7-bit channels, "\r\n" catches newline
// conversion in either direction, and 0x1a stops `type` on DOS.
inline constexpr std::string_view kMagic{"\x89SWT\r\n\x1a\n", 8};
inline constexpr uint32_t kVersion = 1;

// Header is magic (8 bytes), version (4), crc32c (4), flags (4), nr_paths (4),
// region_sectors (8), nr_regions (8), entry_bits (4), chunk_regions_bits (4),
// default_kind (4), default_path_nr (4), nr_present_chunks (8).
inline constexpr size_t kHeaderSize = 8 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 4 + 4 + 4 + 8;

inline constexpr size_t kMagicOffset = 0;
inline constexpr size_t kVersionOffset = 8;
// CRC32C of every byte after this field, to the end of the file. Magic and
// version come first and unchecked because the reader must know the layout
// before it can trust anything else.
inline constexpr size_t kCrc32cOffset = 12;
inline constexpr size_t kChecksummedFrom = kCrc32cOffset + 4;
inline constexpr size_t kFlagsOffset = 16;  // no flags defined; must be 0
inline constexpr size_t kNrPathsOffset = 20;
inline constexpr size_t kRegionSectorsOffset = 24;
inline constexpr size_t kNrRegionsOffset = 32;
inline constexpr size_t kEntryBitsOffset = 40;         // entry_bits_for(nr_paths)
inline constexpr size_t kChunkRegionsBitsOffset = 44;  // RegionTable::kChunkRegionsBits
inline constexpr size_t kDefaultKindOffset = 48;       // a DefaultKind
inline constexpr size_t kDefaultPathOffset = 52;       // kFixedPath only, else 0
inline constexpr size_t kNrPresentChunksOffset = 56;   // bits set in the bitmap
inline constexpr size_t kBitmapOffset = kHeaderSize;

enum class DefaultKind : uint32_t { kRoundRobin = 0, kFixedPath = 1 };

static_assert(kNrPresentChunksOffset + 8 == kHeaderSize);

}  // namespace tcmu_switch::table_format
