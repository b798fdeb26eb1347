// Big-endian fields of CDBs, sense data and parameter data (SPC-4 4.3.1):
// one pair of helpers for every SCSI file of the plugin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcmu_switch {

inline void put_be(uint8_t* out, uint64_t value, int bytes) noexcept {
  for (int i = bytes - 1; i >= 0; i--, value >>= 8) out[i] = static_cast<uint8_t>(value);
}

inline uint64_t get_be(std::span<const uint8_t> in, size_t at, int bytes) noexcept {
  uint64_t value = 0;
  for (int i = 0; i < bytes; i++) value = value << 8 | in[at + i];
  return value;
}

}  // namespace tcmu_switch
