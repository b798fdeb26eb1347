// GET LBA STATUS (SBC-4 5.7): which of the LUN's blocks from the STARTING
// LOGICAL BLOCK ADDRESS are mapped and which are deallocated, as runs of one
// status. The paths know (core SwitchDevice::extent_status); this file parses
// the CDB and lays out the parameter data.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "lun_facts.h"
#include "scsi_answer.h"

namespace tcmu_switch {

inline constexpr uint8_t kGetLbaStatusAction = 0x12;  // SERVICE ACTION IN (16) service action

// One run: `blocks` blocks from `lba` share a status.
struct LbaRun {
  uint64_t blocks = 0;
  bool mapped = true;
};
// The status at `lba` and how far it runs, at most max_blocks (>= 1) blocks.
using LbaStatusSource = std::function<LbaRun(uint64_t lba, uint64_t max_blocks)>;

// Descriptors the answer carries at most: the allocation length may ask for
// fewer; each costs the paths a lookup.
inline constexpr uint32_t kMaxLbaStatusDescriptors = 64;

// REQUIRES: cdb is SERVICE ACTION IN (16) with service action kGetLbaStatusAction.
ScsiAnswer answer_get_lba_status(std::span<const uint8_t> cdb, const LunFacts& facts, const LbaStatusSource& status);

}  // namespace tcmu_switch
