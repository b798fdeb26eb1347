// Loading a region table from a file or a buffer in either format, for the
// plugin, the control plane and switchtab: binary if it starts with the
// binary magic (table_format.h), dm-switch text otherwise.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "region_table.h"
#include "status.h"

namespace tcmu_switch {

// The whole file, or an error naming it and errno's reason.
Result<std::string> read_file_bytes(const std::string& path);

// A table for a device of the given geometry. Text is applied to a fresh
// table with device's default mapping; a binary table keeps its own default
// but must match device's nr_paths, region_sectors and nr_regions, or the
// error names the field that differs.
Result<std::unique_ptr<RegionTable>> load_table_bytes(std::string_view bytes,
                                                      const TableGeometry& device);

// load_table_bytes() on the file's contents; errors start with the path.
Result<std::unique_ptr<RegionTable>> load_table_file(const std::string& path,
                                                     const TableGeometry& device);

// Replaces the file at path with table, atomically (a temporary file in the
// same directory, fsync, rename, fsync of the directory): a crash leaves the
// old table or the new one, never a mix. Binary if the file it replaces is
// binary, compact dm-switch text otherwise. Errors start with the path.
Status save_table_file(const std::string& path, const RegionTable& table);

}  // namespace tcmu_switch
