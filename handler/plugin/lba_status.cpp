#include "lba_status.h"

#include <algorithm>
#include <vector>

#include "scsi_bytes.h"
#include "sense.h"

namespace tcmu_switch {
namespace {

constexpr size_t kHeaderBytes = 8;
constexpr size_t kDescriptorBytes = 16;
constexpr uint8_t kMapped = 0x0;
constexpr uint8_t kDeallocated = 0x1;
// A descriptor's NUMBER OF LOGICAL BLOCKS is 4 bytes.
constexpr uint64_t kMaxRunBlocks = 0xffffffff;

void put_descriptor(std::vector<uint8_t>& out, uint64_t lba, const LbaRun& run) {
  uint8_t d[kDescriptorBytes] = {};
  put_be(d, lba, 8);
  put_be(d + 8, run.blocks, 4);
  d[12] = run.mapped ? kMapped : kDeallocated;
  out.insert(out.end(), d, d + kDescriptorBytes);
}

}  // namespace

ScsiAnswer answer_get_lba_status(std::span<const uint8_t> cdb, const LunFacts& facts, const LbaStatusSource& status) {
  const uint64_t lba = get_be(cdb, 2, 8);
  const auto allocation_length = static_cast<uint32_t>(get_be(cdb, 10, 4));
  // REPORT TYPE (SBC-4 r10+): only "every LBA" is offered.
  if ((cdb[14] & 0x03) != 0) return ScsiAnswer::check(invalid_field_in_cdb(14));
  if (lba >= facts.nr_blocks) return ScsiAnswer::check(lba_out_of_range());
  const size_t wanted = allocation_length <= kHeaderBytes
                            ? 1
                            : (allocation_length - kHeaderBytes + kDescriptorBytes - 1) / kDescriptorBytes;
  const size_t nr_descriptors = std::min<size_t>(wanted, kMaxLbaStatusDescriptors);
  std::vector<uint8_t> out(kHeaderBytes);
  for (uint64_t at = lba; at < facts.nr_blocks && (out.size() - kHeaderBytes) / kDescriptorBytes < nr_descriptors;) {
    LbaRun run = status(at, std::min(facts.nr_blocks - at, kMaxRunBlocks));
    run.blocks = std::clamp<uint64_t>(run.blocks, 1, std::min(facts.nr_blocks - at, kMaxRunBlocks));
    put_descriptor(out, at, run);
    at += run.blocks;
  }
  put_be(out.data(), out.size() - 4, 4);  // PARAMETER DATA LENGTH: the bytes after it
  return data_in(std::move(out), allocation_length);
}

}  // namespace tcmu_switch
