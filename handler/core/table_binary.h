// Binary region tables: a checksummed header and the table's own packed
// chunks (layout in table_format.h, prose in doc/table_format.md), so that
// loading is a checksum and a copy per chunk. Text tables are in table_text.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "region_table.h"
#include "status.h"

namespace tcmu_switch {

// True if bytes begin with the binary table magic (text tables never do).
bool is_binary_table(std::string_view bytes);

// The table, its geometry and its default mapping in the binary format.
// Chunks present in the table are written even where they match the default.
std::string encode_table_binary(const RegionTable& table);

// The table encoded in bytes, which may come from anywhere: every field,
// size, checksum and entry is checked, and an error names the byte offset and
// the field, e.g. "byte 12 (crc32c): checksum mismatch: stored 0x1, computed 0x2".
Result<std::unique_ptr<RegionTable>> decode_table_binary(std::string_view bytes);

}  // namespace tcmu_switch
