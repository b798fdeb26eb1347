#include "crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tcmu_switch::crc32c {
namespace {

constexpr uint32_t kPolyReflected = 0x82f63b78;  // Castagnoli polynomial 0x1edc6f41, bit-reversed

// kTables[k][b] is the CRC of byte b followed by k zero bytes, so eight
// lookups advance the CRC over eight bytes at once ("slicing by 8").
constexpr auto kTables = [] {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ ((crc & 1) ? kPolyReflected : 0);
    t[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; b++)
    for (size_t k = 1; k < 8; k++) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  return t;
}();

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint32_t extend_table(uint32_t crc, const uint8_t* p, size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    const uint64_t v = load_le64(p) ^ crc;
    crc = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
          kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^
          kTables[2][(v >> 40) & 0xff] ^ kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
  }
  for (; n > 0; n--, p++) crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t crc64 = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    crc64 = _mm_crc32_u64(crc64, v);
  }
  crc = static_cast<uint32_t>(crc64);
  for (; n > 0; n--, p++) crc = _mm_crc32_u8(crc, *p);
  return crc;
}

bool cpu_has_sse42() {
  __builtin_cpu_init();  // we may run from a static initialiser, before libgcc's own
  return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t n) { return extend_table(crc, p, n); }
bool cpu_has_sse42() { return false; }
#endif

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);
const ExtendFn kExtend = cpu_has_sse42() ? extend_sse42 : extend_table;

}  // namespace

uint32_t extend(uint32_t init_crc, const void* data, size_t n) {
  // The stored CRC is the register inverted before and after, as in iSCSI and ext4.
  return ~kExtend(~init_crc, static_cast<const uint8_t*>(data), n);
}

uint32_t extend_portable(uint32_t init_crc, const void* data, size_t n) {
  return ~extend_table(~init_crc, static_cast<const uint8_t*>(data), n);
}

}  // namespace tcmu_switch::crc32c
