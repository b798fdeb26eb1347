// The block devices a path's I/O passes through, from sysfs: the device, the
// disk a partition belongs to, and what a device-mapper or md device sits on
// (its slaves), all the way down. A path fails when any of them goes: a
// dm-linear map over a removed disk stays, but answers nothing but errors.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tcmu_switch {

// The device first, then what it sits on, each once. A device sysfs does not
// know (a file's st_dev, a stale number) yields just itself.
std::vector<dev_t> block_stack(dev_t dev, const std::string& sysfs_root = "/sys");

// "8:32", the way sysfs and the logs write a device number.
std::string devnum_text(dev_t dev);

}  // namespace tcmu_switch
