#include "provisioning_pages.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kInquiry = 0x12;
constexpr uint8_t kServiceActionIn16 = 0x9e;
constexpr uint8_t kReadCapacity16 = 0x10;  // service action, byte 1 bits 4:0
constexpr uint8_t kLbpVpdPage = 0xb2;
constexpr uint8_t kEvpd = 0x01;

void put_be(uint8_t* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; i--, value >>= 8) out[i] = static_cast<uint8_t>(value);
}

}  // namespace

bool is_read_capacity_16(std::span<const uint8_t> cdb) noexcept {
  return cdb.size() >= 16 && cdb[0] == kServiceActionIn16 && (cdb[1] & 0x1f) == kReadCapacity16;
}

bool is_lbp_vpd_inquiry(std::span<const uint8_t> cdb) noexcept {
  return cdb.size() >= 6 && cdb[0] == kInquiry && (cdb[1] & kEvpd) != 0 && cdb[2] == kLbpVpdPage;
}

std::array<uint8_t, 32> read_capacity_16_data(uint64_t nr_blocks, uint32_t block_bytes, bool lbprz) noexcept {
  std::array<uint8_t, 32> data{};
  put_be(&data[0], nr_blocks - 1, 8);
  put_be(&data[8], block_bytes, 4);
  data[14] = 0x80 | (lbprz ? 0x40 : 0);  // LBPME | LBPRZ
  return data;
}

std::array<uint8_t, 8> lbp_vpd_page(bool lbprz) noexcept {
  std::array<uint8_t, 8> page{};
  page[1] = kLbpVpdPage;
  put_be(&page[2], page.size() - 4, 2);  // PAGE LENGTH
  page[5] = 0xe0 | (lbprz ? 0x04 : 0);   // LBPU | LBPWS | LBPWS10 | LBPRZ field 001b
  return page;
}

}  // namespace tcmu_switch
