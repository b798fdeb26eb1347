// What the handler's own SCSI answers are made of: the LUN's geometry, its
// identity as LIO knows it and the limits the plugin enforces. The plugin
// fills it at open (and on a resize or a cache reconfig); the SCSI files read
// it and never ask tcmu-runner themselves.
#pragma once

#include <cstdint>
#include <string_view>

namespace tcmu_switch {

struct LunFacts {
  uint64_t nr_blocks = 0;
  uint32_t block_bytes = 512;
  std::string_view unit_serial;  // LIO's vpd_unit_serial (the configfs WWN), as fileio reports it
  uint32_t max_xfer_blocks = 0;
  uint32_t optimal_granularity_blocks = 1;  // the region: a write inside one goes to one path
  uint32_t max_unmap_blocks = 0;
  uint32_t max_unmap_descriptors = 0;
  uint32_t unmap_alignment_blocks = 0;
  uint64_t max_write_same_blocks = 0;
  uint8_t max_compare_and_write_blocks = 0;
  uint32_t command_timeout_s = 30;  // cmd_time_out: LIO aborts a command after it
  bool lbprz = false;        // every path reads back zeroes where it deallocated
  bool write_cache = true;   // WCE: a write is durable only after SYNCHRONIZE CACHE or with FUA
};

}  // namespace tcmu_switch
