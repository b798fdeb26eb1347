// Kernel uevents as NETLINK_KOBJECT_UEVENT delivers them, and what one means
// for a path. Pure: no socket and no sysfs here (uevent_monitor.h listens,
// block_stack.h finds the devices a path sits on).
//
// A kernel message is "ACTION@DEVPATH" and then KEY=VALUE fields, each
// NUL-terminated:
//   remove@/devices/.../block/sdc\0ACTION=remove\0DEVPATH=...\0SUBSYSTEM=block\0
//   MAJOR=8\0MINOR=32\0DEVNAME=sdc\0DEVTYPE=disk\0SEQNUM=2071\0
// Device-mapper adds DM_NAME to its change events.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "status.h"

namespace tcmu_switch {

struct Uevent {
  std::string action;     // "add", "remove", "change", "online", "offline", ...
  std::string devpath;    // under /sys
  std::string subsystem;  // "block" for disks, partitions and dm devices
  std::string devname;    // "sdc", "dm-2": under /dev
  std::string dm_name;    // device-mapper's name ("mp2"); empty elsewhere
  bool has_devnum = false;
  dev_t devnum = 0;       // MAJOR:MINOR, when the message has both
  uint64_t seqnum = 0;
};

// REQUIRES: message is one datagram as received. An error names the field.
Result<Uevent> parse_uevent(std::string_view message);

// What a uevent tells about the block device it names.
enum class BlockEvent : uint8_t {
  kNone,     // not a block device's, or nothing a path cares about
  kGone,     // remove, offline: I/O through it cannot succeed; fail the path now
  kBack,     // add, online: it may answer again; the prober decides
  kChanged,  // change: e.g. a device-mapper table swapped; what it sits on may differ
};
BlockEvent block_event(const Uevent& event);

}  // namespace tcmu_switch
