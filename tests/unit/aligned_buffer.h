// AlignedBuffer: the one I/O buffer of the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace tcmu_switch::test_support {

// Zeroed, 4096-byte aligned: what O_DIRECT paths need.
struct AlignedBuffer {
  explicit AlignedBuffer(size_t n) : size(n) {
    EXPECT_EQ(posix_memalign(&data, 4096, n), 0);
    std::memset(data, 0, n);
  }
  ~AlignedBuffer() { std::free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  unsigned char* bytes() { return static_cast<unsigned char*>(data); }
  void* data = nullptr;
  size_t size;
};

}  // namespace tcmu_switch::test_support
