#include "inquiry_pages.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "provisioning_pages.h"
#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kEvpd = 0x01;
constexpr uint8_t kCmdDt = 0x02;  // obsolete since SPC-3: INVALID FIELD IN CDB
constexpr std::string_view kVendor = "LIO-ORG ";
constexpr std::string_view kProduct = "TCMU device";
constexpr std::string_view kRevision = "0002";
// IEEE company ID LIO puts in the NAA designator by default (OpenFabrics,
// target_core_configfs.c), and so does tcmu-runner (scsi.c).
constexpr uint32_t kCompanyId = 0x001405;
constexpr uint8_t kSupportedPages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

void put_text(std::vector<uint8_t>& out, size_t at, size_t width, std::string_view text) {
  std::memset(&out[at], ' ', width);
  std::memcpy(&out[at], text.data(), std::min(width, text.size()));
}

std::vector<uint8_t> standard_data() {
  std::vector<uint8_t> out(96);
  out[2] = 0x06;  // VERSION: SPC-4
  out[3] = 0x02;  // RESPONSE DATA FORMAT
  out[4] = static_cast<uint8_t>(out.size() - 5);
  out[5] = 0x08;  // 3PC: tcmu-runner emulates EXTENDED COPY
  out[7] = 0x02;  // CMDQUE
  put_text(out, 8, 8, kVendor);
  put_text(out, 16, 16, kProduct);
  put_text(out, 32, 4, kRevision);
  put_be(&out[58], 0x00a0, 2);  // SAM-5
  put_be(&out[60], 0x0460, 2);  // SPC-4
  put_be(&out[62], 0x04c0, 2);  // SBC-3
  return out;
}

std::vector<uint8_t> page_with_header(uint8_t page_code, size_t body_bytes) {
  std::vector<uint8_t> out(4 + body_bytes);
  out[1] = page_code;
  put_be(&out[2], body_bytes, 2);
  return out;
}

std::vector<uint8_t> supported_pages() {
  auto out = page_with_header(0x00, sizeof(kSupportedPages));
  std::memcpy(&out[4], kSupportedPages, sizeof(kSupportedPages));
  return out;
}

// The serial and its terminating NUL, as LIO (spc_emulate_evpd_80).
std::vector<uint8_t> unit_serial_page(const LunFacts& facts) {
  auto out = page_with_header(0x80, facts.unit_serial.size() + 1);
  std::memcpy(&out[4], facts.unit_serial.data(), facts.unit_serial.size());
  return out;
}

// Device Identification: the T10 vendor ID and the NAA designator, both
// logical-unit associated, as tcmu-runner and LIO give them.
std::vector<uint8_t> device_identification_page(const LunFacts& facts) {
  const size_t t10_len = kVendor.size() + facts.unit_serial.size() + 1;
  auto out = page_with_header(0x83, 4 + t10_len + 4 + 16);
  uint8_t* d = &out[4];
  d[0] = 0x02;  // CODE SET: ASCII
  d[1] = 0x01;  // DESIGNATOR TYPE: T10 vendor ID
  d[3] = static_cast<uint8_t>(t10_len);
  std::memcpy(&d[4], kVendor.data(), kVendor.size());
  std::memcpy(&d[4 + kVendor.size()], facts.unit_serial.data(), facts.unit_serial.size());
  d += 4 + t10_len;
  d[0] = 0x01;  // CODE SET: binary
  d[1] = 0x03;  // DESIGNATOR TYPE: NAA
  d[3] = 16;
  const auto naa = naa_6h(facts.unit_serial);
  std::memcpy(&d[4], naa.data(), naa.size());
  return out;
}


// Block Limits (SBC-4 6.6.4), from the limits the plugin enforces.
std::vector<uint8_t> block_limits_page(const LunFacts& facts) {
  auto out = page_with_header(0xb0, 0x3c);
  out[4] = 0x01;  // WSNZ: WRITE SAME of 0 blocks ("to the end") is refused
  out[5] = facts.max_compare_and_write_blocks;
  // The field is 16 bits: a region larger says nothing rather than a lie.
  if (facts.optimal_granularity_blocks <= UINT16_MAX) put_be(&out[6], facts.optimal_granularity_blocks, 2);
  put_be(&out[8], facts.max_xfer_blocks, 4);
  put_be(&out[12], facts.max_xfer_blocks, 4);  // OPTIMAL TRANSFER LENGTH: one command per window
  put_be(&out[20], facts.max_unmap_blocks, 4);
  put_be(&out[24], facts.max_unmap_descriptors, 4);
  put_be(&out[28], facts.optimal_granularity_blocks, 4);
  if (facts.unmap_alignment_blocks != 0) {
    put_be(&out[32], facts.unmap_alignment_blocks, 4);
    out[32] |= 0x80;  // UGAVALID
  }
  put_be(&out[36], facts.max_write_same_blocks, 8);
  return out;
}

// Block Device Characteristics (SBC-4 6.6.2): the paths may be disks or
// flash, so the rotation rate and form factor are "not reported".
std::vector<uint8_t> block_characteristics_page() { return page_with_header(0xb1, 0x3c); }

std::vector<uint8_t> provisioning_page(const LunFacts& facts) {
  const auto page = lbp_vpd_page(facts.lbprz);
  return {page.begin(), page.end()};
}

}  // namespace

std::array<uint8_t, 16> naa_6h(std::string_view serial) {
  std::array<uint8_t, 16> naa{};
  naa[0] = 0x60 | ((kCompanyId >> 20) & 0x0f);
  naa[1] = (kCompanyId >> 12) & 0xff;
  naa[2] = (kCompanyId >> 4) & 0xff;
  naa[3] = (kCompanyId & 0x0f) << 4;
  size_t at = 3;
  bool low_nibble = true;
  for (char c : serial) {
    if (at >= naa.size()) break;
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (low_nibble) {
      naa[at++] |= static_cast<uint8_t>(v);
    } else {
      naa[at] = static_cast<uint8_t>(v << 4);
    }
    low_nibble = !low_nibble;
  }
  return naa;
}


ScsiAnswer answer_inquiry(std::span<const uint8_t> cdb, const LunFacts& facts) {
  const auto allocation_length = static_cast<uint32_t>(get_be(cdb, 3, 2));
  if ((cdb[1] & kCmdDt) != 0) return ScsiAnswer::check(invalid_field_in_cdb(1, 1));
  if ((cdb[1] & kEvpd) == 0) {
    if (cdb[2] != 0) return ScsiAnswer::check(invalid_field_in_cdb(2));
    return data_in(standard_data(), allocation_length);
  }
  switch (cdb[2]) {
    case 0x00: return data_in(supported_pages(), allocation_length);
    case 0x80: return data_in(unit_serial_page(facts), allocation_length);
    case 0x83: return data_in(device_identification_page(facts), allocation_length);
    case 0xb0: return data_in(block_limits_page(facts), allocation_length);
    case 0xb1: return data_in(block_characteristics_page(), allocation_length);
    case 0xb2: return data_in(provisioning_page(facts), allocation_length);
  }
  return ScsiAnswer::check(invalid_field_in_cdb(2));
}

}  // namespace tcmu_switch
