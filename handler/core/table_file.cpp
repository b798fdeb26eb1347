#include "table_file.h"

#include <fcntl.h>
#include <unistd.h>

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

std::string errno_text(const std::string& path, const char* what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error(errno_text(path, "cannot write"));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status fsync_directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::error(errno_text(dir, "cannot open"));
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status{} : Status::error(errno_text(dir, "cannot fsync"));
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

Status save_table_file(const std::string& path, const RegionTable& table) {
  const auto old = read_file_bytes(path);
  const bool binary = old.ok() && is_binary_table(old.value());
  const std::string bytes = binary ? encode_table_binary(table) : format_table_text(table);
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(errno_text(temp, "cannot create"));
  Status s = write_all(fd, bytes, temp);
  if (s.ok() && ::fsync(fd) != 0) s = Status::error(errno_text(temp, "cannot fsync"));
  ::close(fd);
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0) s = Status::error(errno_text(path, "cannot replace"));
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  return fsync_directory_of(path);
}

}  // namespace tcmu_switch
