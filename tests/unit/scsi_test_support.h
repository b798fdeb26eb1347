// What the tests of the handler's SCSI answers share: a LunFacts like a
// 64 MiB LUN of 512-byte blocks on 64 KiB regions, and sense decoding.
#pragma once

#include <cstdint>
#include <vector>

#include "lun_facts.h"
#include "scsi_answer.h"
#include "sense.h"

namespace tcmu_switch::scsi_test {

inline LunFacts facts() {
  LunFacts f;
  f.nr_blocks = 131072;
  f.block_bytes = 512;
  f.unit_serial = "6b5e3f1a-0c2d-4e5f-8a9b-0123456789ab";
  f.max_xfer_blocks = 2048;
  f.optimal_granularity_blocks = 128;
  f.max_unmap_blocks = 131072;
  f.max_unmap_descriptors = 4;
  f.unmap_alignment_blocks = 128;
  f.max_write_same_blocks = 131072;
  f.max_compare_and_write_blocks = 255;
  f.lbprz = true;
  f.write_cache = true;
  return f;
}

// Key, ASC/ASCQ and the field pointer (-1: none) of an answer's sense.
struct Decoded {
  int key = -1;
  int asc_ascq = -1;
  int field_byte = -1;
  int field_bit = -1;
  bool in_cdb = false;
};

inline Decoded decode(const ScsiAnswer& a) {
  Decoded d;
  if (a.good()) return d;
  const auto b = fixed_sense(*a.sense);
  d.key = b[2] & 0x0f;
  d.asc_ascq = b[12] << 8 | b[13];
  if (b[15] & 0x80) {
    d.in_cdb = (b[15] & 0x40) != 0;
    d.field_byte = b[16] << 8 | b[17];
    if (b[15] & 0x08) d.field_bit = b[15] & 0x07;
  }
  return d;
}

inline uint64_t be(const std::vector<uint8_t>& v, size_t at, int bytes) {
  uint64_t x = 0;
  for (int i = 0; i < bytes; i++) x = x << 8 | v.at(at + i);
  return x;
}

}  // namespace tcmu_switch::scsi_test
