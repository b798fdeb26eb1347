// GET LBA STATUS's question to one path: does a byte range of it hold data
// (mapped) or is it a hole that reads back as zeroes (deallocated)? A file
// answers through lseek(SEEK_DATA / SEEK_HOLE); a block device says "data"
// everywhere (the kernel's fixed-size llseek), and what cannot answer (an RBD
// image, an lseek error) is reported mapped, which SBC-4 lets "mapped" mean.
#pragma once

#include <cstdint>

namespace tcmu_switch {

struct ExtentStatus {
  uint64_t len = 0;  // bytes from the asked offset that share the status
  bool mapped = true;
  bool operator==(const ExtentStatus&) const = default;
};

// The status of fd at `offset` and how far it runs, at most max_len bytes.
// fd < 0 (no file to ask): mapped for max_len.
ExtentStatus file_extent_status(int fd, uint64_t offset, uint64_t max_len) noexcept;

}  // namespace tcmu_switch
