// CRC32C (Castagnoli), the checksum of the binary table format.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it and a slicing-by-8
// table otherwise; both take 8 bytes a step. Debian ships no C++ library for
// it, and the format needs nothing else. Same conventions as LevelDB's
// util/crc32c.h: value() of a buffer equals extend() of its pieces.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tcmu_switch::crc32c {

// The CRC32C of data[0, n) appended to a buffer whose CRC32C is init_crc.
uint32_t extend(uint32_t init_crc, const void* data, size_t n);

inline uint32_t value(const void* data, size_t n) { return extend(0, data, n); }

// extend() on the table-driven path whatever the CPU, so tests cover it.
uint32_t extend_portable(uint32_t init_crc, const void* data, size_t n);

}  // namespace tcmu_switch::crc32c
