// Text region tables: the argument syntax of dm-switch's set_region_mappings
// message (Documentation/admin-guide/device-mapper/switch.rst), so that any
// mapping written for dm-switch loads here unchanged.
//
// The text carries mappings only; nr_paths, region size and nr_regions come
// from the device. The grammar is written once, above the parser in
// table_text.cpp. Binary tables are in table_binary.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "region_table.h"
#include "status.h"

namespace tcmu_switch {

// Applies text to table. On error table is unchanged and the message names
// line, column, entry and limit, e.g.
//   line 3, column 9: entry "1000:7": path 7 >= nr_paths 3
// The text is validated in full before the first write, so a bad entry on the
// last line leaves nothing half applied.
// REQUIRES: table is not published (clone it from the TableSlot first).
Status apply_text(std::string_view text, RegionTable& table);

// A table with geometry's default mapping and text applied to it.
Result<std::unique_ptr<RegionTable>> parse_table_text(std::string_view text,
                                                      const TableGeometry& geometry);

struct TextFormatOptions {
  // One "index:path" line per region instead of the compact form.
  bool expand = false;
  // Starts with a comment line naming the geometry, for readers; the parser
  // ignores it like any comment.
  bool geometry_comment = true;
};

// Every region of table as text that parse_table_text() turns back into the
// same mapping whatever the default. The compact form starts each line with
// an absolute "index:path" and continues with ":path" and "Rn,m", so each
// line is also a valid dm-switch message on its own.
std::string format_table_text(const RegionTable& table, const TextFormatOptions& options = {});

}  // namespace tcmu_switch
