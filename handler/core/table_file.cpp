#include "table_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "table_binary.h"
#include "table_text.h"

namespace tcmu_switch {
namespace {

// Names the first geometry field in which the table and the device differ.
Status check_same_geometry(const TableGeometry& table, const TableGeometry& device) {
  auto differs = [](const char* field, uint64_t in_table, uint64_t in_device) {
    return Status::error(std::string(field) + " " + std::to_string(in_table) +
                         " in the table != " + std::to_string(in_device) + " of the device");
  };
  if (table.nr_paths != device.nr_paths)
    return differs("nr_paths", table.nr_paths, device.nr_paths);
  if (table.region_sectors != device.region_sectors)
    return differs("region_sectors", table.region_sectors, device.region_sectors);
  if (table.nr_regions != device.nr_regions)
    return differs("nr_regions", table.nr_regions, device.nr_regions);
  return {};
}

}  // namespace

Result<std::string> read_file_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::error(path + ": cannot open: " + std::strerror(errno));
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int read_errno = errno;
  std::fclose(f);
  if (failed) return Status::error(path + ": cannot read: " + std::strerror(read_errno));
  return bytes;
}

Result<std::unique_ptr<RegionTable>> load_table_bytes(std::string_view bytes,
                                                      const TableGeometry& device) {
  if (!is_binary_table(bytes)) return parse_table_text(bytes, device);
  Result<std::unique_ptr<RegionTable>> table = decode_table_binary(bytes);
  if (!table.ok()) return table;
  if (Status s = check_same_geometry(table.value()->geometry(), device); !s.ok()) return s;
  return table;
}

Result<std::unique_ptr<RegionTable>> load_table_file(const std::string& path,
                                                     const TableGeometry& device) {
  Result<std::string> bytes = read_file_bytes(path);
  if (!bytes.ok()) return bytes.status();
  Result<std::unique_ptr<RegionTable>> table = load_table_bytes(bytes.value(), device);
  if (!table.ok()) return table.status().with_context(path);
  return table;
}

}  // namespace tcmu_switch
