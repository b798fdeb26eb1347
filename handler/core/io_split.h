// Splitting a command at region boundaries, as dm-switch does with
// dm_set_target_max_io_len(region_size): no piece spans two regions.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace tcmu_switch {

// Calls f(region_nr, offset_bytes, len_bytes) for each piece of
// [offset_bytes, offset_bytes + len_bytes), in order.
// REQUIRES: region_bytes >= 1.
template <typename F>
void for_each_region_piece(uint64_t region_bytes, uint64_t offset_bytes, uint64_t len_bytes, F&& f) {
  uint64_t region_nr = offset_bytes / region_bytes;
  uint64_t region_end = (region_nr + 1) * region_bytes;
  while (len_bytes > 0) {
    const uint64_t piece = std::min(len_bytes, region_end - offset_bytes);
    f(region_nr, offset_bytes, piece);
    offset_bytes += piece;
    len_bytes -= piece;
    region_nr++;
    region_end += region_bytes;
  }
}

// Number of pieces for_each_region_piece would produce.
inline uint64_t count_region_pieces(uint64_t region_bytes, uint64_t offset_bytes, uint64_t len_bytes) {
  if (len_bytes == 0) return 0;
  return (offset_bytes + len_bytes - 1) / region_bytes - offset_bytes / region_bytes + 1;
}

// Walks a command's iovec array handing out consecutive byte ranges as iovec
// slices written into caller-provided storage (no allocation). Slicing an
// array of n iovecs into k ranges needs at most n + k - 1 entries.
class IovecCursor {
 public:
  IovecCursor(const iovec* iov, size_t iov_cnt) : iov_(iov), iov_cnt_(iov_cnt) {}

  // Writes the iovecs covering the next len_bytes to out; returns their number,
  // or 0 if the iovecs hold fewer than len_bytes or more than out_cap are needed.
  size_t take(uint64_t len_bytes, iovec* out, size_t out_cap) noexcept {
    size_t n = 0;
    while (len_bytes > 0) {
      if (idx_ == iov_cnt_ || n == out_cap) return 0;
      if (iov_[idx_].iov_len == off_) {  // an empty iovec
        idx_++;
        off_ = 0;
        continue;
      }
      const size_t avail = iov_[idx_].iov_len - off_;
      const size_t take_now = static_cast<size_t>(std::min<uint64_t>(avail, len_bytes));
      out[n++] = {static_cast<char*>(iov_[idx_].iov_base) + off_, take_now};
      len_bytes -= take_now;
      off_ += take_now;
      if (off_ == iov_[idx_].iov_len) {
        idx_++;
        off_ = 0;
      }
    }
    return n;
  }

 private:
  const iovec* iov_;
  size_t iov_cnt_;
  size_t idx_ = 0;  // current iovec
  size_t off_ = 0;  // bytes of it already handed out
};

}  // namespace tcmu_switch
