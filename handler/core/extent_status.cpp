#include "extent_status.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace tcmu_switch {

ExtentStatus file_extent_status(int fd, uint64_t offset, uint64_t max_len) noexcept {
  const ExtentStatus unknown{max_len, true};
  if (fd < 0 || max_len == 0) return unknown;
  const auto at = static_cast<off_t>(offset);
  const off_t data = lseek(fd, at, SEEK_DATA);
  // ENXIO: nothing but a hole from here to the end of the file.
  if (data < 0) return errno == ENXIO ? ExtentStatus{max_len, false} : unknown;
  if (data > at) return {std::min(static_cast<uint64_t>(data - at), max_len), false};
  const off_t hole = lseek(fd, at, SEEK_HOLE);
  if (hole <= at) return unknown;
  return {std::min(static_cast<uint64_t>(hole - at), max_len), true};
}

}  // namespace tcmu_switch
