#include "mode_pages.h"

#include <algorithm>
#include <optional>

#include "scsi_bytes.h"

namespace tcmu_switch {
namespace {

constexpr uint8_t kModeSense10 = 0x5a;
constexpr uint8_t kModeSelect10 = 0x55;
constexpr uint8_t kAllPages = 0x3f;
constexpr uint8_t kDpoFua = 0x10;  // device-specific parameter of a direct-access LUN

enum class PageControl : uint8_t { kCurrent = 0, kChangeable = 1, kDefault = 2, kSaved = 3 };

struct ModePage {
  uint8_t code;
  uint8_t length;  // PAGE LENGTH: bytes after byte 1
};

constexpr ModePage kPages[] = {{0x01, 0x0a}, {0x08, 0x12}, {0x0a, 0x0a}, {0x1c, 0x0a}};

// One page as fileio fills it (target_core_spc.c spc_modesense_*); all
// zeroes but the header for the changeable values. Nothing is saved or has a
// default apart from the current value: those are answered with it, as on
// fileio.
std::vector<uint8_t> page_bytes(const ModePage& page, PageControl pc, const LunFacts& facts) {
  std::vector<uint8_t> p(2 + page.length);
  p[0] = page.code;
  p[1] = page.length;
  if (pc == PageControl::kChangeable) return p;
  switch (page.code) {
    case 0x08:                             // Caching
      if (facts.write_cache) p[2] = 0x04;  // WCE
      p[12] = 0x20;                        // DRA: no read-ahead of our own
      break;
    case 0x0a:         // Control
      p[2] = 0x02;     // GLTSD: no log pages saved
      p[3] = 0x10;     // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
      p[5] = 0x40;     // TAS, as LIO's default emulate_tas
      p[8] = p[9] = 0xff;  // BUSY TIMEOUT PERIOD: unlimited
      p[11] = 30;          // EXTENDED SELF-TEST COMPLETION TIME
      break;
  }
  return p;
}

const ModePage* find_page(uint8_t code) {
  for (const auto& p : kPages)
    if (p.code == code) return &p;
  return nullptr;
}

// The block descriptor: short (8 bytes) or, for MODE SENSE (10) with LLBAA
// when the LUN has more than 2^32 blocks, long (16 bytes).
std::vector<uint8_t> block_descriptor(const LunFacts& facts, bool long_lba) {
  if (long_lba && facts.nr_blocks > UINT32_MAX) {
    std::vector<uint8_t> d(16);
    put_be(&d[0], facts.nr_blocks, 8);
    put_be(&d[12], facts.block_bytes, 4);
    return d;
  }
  std::vector<uint8_t> d(8);
  put_be(&d[0], std::min<uint64_t>(facts.nr_blocks, UINT32_MAX), 4);
  put_be(&d[5], facts.block_bytes, 3);
  return d;
}

}  // namespace

ScsiAnswer answer_mode_sense(std::span<const uint8_t> cdb, const LunFacts& facts) {
  const bool ten = cdb[0] == kModeSense10;
  const bool dbd = (cdb[1] & 0x08) != 0;
  const bool llbaa = ten && (cdb[1] & 0x10) != 0;
  const auto pc = static_cast<PageControl>(cdb[2] >> 6);
  const uint8_t page_code = cdb[2] & 0x3f;
  const uint8_t subpage = cdb[3];
  const auto allocation_length = static_cast<uint32_t>(ten ? get_be(cdb, 7, 2) : cdb[4]);
  std::vector<uint8_t> pages;
  if (page_code == kAllPages) {
    if (subpage != 0x00 && subpage != 0xff) return ScsiAnswer::check(invalid_field_in_cdb(3));
    for (const auto& p : kPages) {
      const auto bytes = page_bytes(p, pc, facts);
      pages.insert(pages.end(), bytes.begin(), bytes.end());
    }
  } else {
    const ModePage* page = find_page(page_code);
    if (page == nullptr) return ScsiAnswer::check(invalid_field_in_cdb(2, 5));
    if (subpage != 0) return ScsiAnswer::check(invalid_field_in_cdb(3));
    pages = page_bytes(*page, pc, facts);
  }
  const std::vector<uint8_t> descriptor = dbd ? std::vector<uint8_t>{} : block_descriptor(facts, llbaa);
  const size_t header_bytes = ten ? 8 : 4;
  std::vector<uint8_t> out(header_bytes);
  out.insert(out.end(), descriptor.begin(), descriptor.end());
  out.insert(out.end(), pages.begin(), pages.end());
  // MODE DATA LENGTH counts the bytes after itself; (6) has one byte for it.
  if (!ten && out.size() > 256) out.resize(256);
  if (ten) {
    put_be(&out[0], out.size() - 2, 2);
    out[3] = kDpoFua;
    if (descriptor.size() == 16) out[4] = 0x01;  // LONGLBA
    put_be(&out[6], descriptor.size(), 2);
  } else {
    out[0] = static_cast<uint8_t>(out.size() - 1);
    out[2] = kDpoFua;
    out[3] = static_cast<uint8_t>(descriptor.size());
  }
  return data_in(std::move(out), allocation_length);
}

ScsiAnswer answer_mode_select(std::span<const uint8_t> cdb, std::span<const uint8_t> parameters,
                              const LunFacts& facts) {
  const bool ten = cdb[0] == kModeSelect10;
  const bool pf = (cdb[1] & 0x10) != 0;
  const bool sp = (cdb[1] & 0x01) != 0;
  const auto list_length = static_cast<size_t>(ten ? get_be(cdb, 7, 2) : cdb[4]);
  if (!pf) return ScsiAnswer::check(invalid_field_in_cdb(1, 4));   // only SPC pages are known
  if (sp) return ScsiAnswer::check(invalid_field_in_cdb(1, 0));    // nothing is saved
  if (list_length == 0) return {};
  const size_t header_bytes = ten ? 8 : 4;
  if (parameters.size() < list_length || list_length < header_bytes)
    return ScsiAnswer::check(parameter_list_length_error());
  const std::span<const uint8_t> list = parameters.first(list_length);
  const size_t descriptor_bytes = ten ? get_be(list, 6, 2) : list[3];
  // Pages follow the block descriptors; each must equal the current one.
  size_t at = header_bytes + descriptor_bytes;
  if (at > list.size()) return ScsiAnswer::check(parameter_list_length_error());
  while (at < list.size()) {
    if (list.size() - at < 2) return ScsiAnswer::check(parameter_list_length_error());
    if ((list[at] & 0x40) != 0) return ScsiAnswer::check(invalid_field_in_parameter_list(static_cast<uint16_t>(at), 6));  // SPF
    const ModePage* page = find_page(list[at] & 0x3f);
    if (page == nullptr) return ScsiAnswer::check(invalid_field_in_parameter_list(static_cast<uint16_t>(at)));
    const auto current = page_bytes(*page, PageControl::kCurrent, facts);
    if (list.size() - at < current.size()) return ScsiAnswer::check(parameter_list_length_error());
    // Byte 0 bit 7 (PS) is reserved in MODE SELECT data.
    for (size_t i = 0; i < current.size(); i++) {
      const uint8_t given = i == 0 ? list[at] & 0x7f : list[at + i];
      if (given != current[i]) return ScsiAnswer::check(invalid_field_in_parameter_list(static_cast<uint16_t>(at + i)));
    }
    at += current.size();
  }
  return {};
}

}  // namespace tcmu_switch
