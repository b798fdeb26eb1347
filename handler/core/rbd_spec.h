// The name of an RBD image as a path's device: "rbd:POOL/IMAGE" or
// "rbd:POOL/NAMESPACE/IMAGE", the rbd tool's image-spec behind a prefix.
// Pure: the config parser checks it without librbd (rbd_path.h opens it).
#pragma once

#include <string>
#include <string_view>

#include "status.h"

namespace tcmu_switch {

inline constexpr std::string_view kRbdPrefix = "rbd:";

struct RbdSpec {
  std::string pool;
  std::string ns;  // RADOS namespace; empty: the pool's default
  std::string image;
};

inline bool is_rbd_device(std::string_view device) { return device.starts_with(kRbdPrefix); }

// REQUIRES: is_rbd_device(device). An error names the device and the part
// that is wrong.
Result<RbdSpec> parse_rbd_spec(std::string_view device);

}  // namespace tcmu_switch
