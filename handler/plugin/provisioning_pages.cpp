#include "provisioning_pages.h"

#include "scsi_bytes.h"

namespace tcmu_switch {

std::array<uint8_t, 32> read_capacity_16_data(uint64_t nr_blocks, uint32_t block_bytes, bool lbprz) noexcept {
  std::array<uint8_t, 32> data{};
  put_be(&data[0], nr_blocks - 1, 8);
  put_be(&data[8], block_bytes, 4);
  data[14] = 0x80 | (lbprz ? 0x40 : 0);  // LBPME | LBPRZ
  return data;
}

std::array<uint8_t, 8> lbp_vpd_page(bool lbprz) noexcept {
  std::array<uint8_t, 8> page{};
  page[1] = 0xb2;
  put_be(&page[2], page.size() - 4, 2);  // PAGE LENGTH
  page[5] = 0xe0 | (lbprz ? 0x04 : 0);   // LBPU | LBPWS | LBPWS10 | LBPRZ field 001b
  return page;
}

}  // namespace tcmu_switch
