// BufferKind: where a command's data lives, as the caller tells the device.
// The core cannot tell by itself (the plugin reads that from tcmu-runner's
// UIO map: handler/plugin/zero_copy.h); it only needs to know how the pieces
// may meet O_DIRECT.
#pragma once

#include <cstdint>

namespace tcmu_switch {

enum class BufferKind : uint8_t {
  kCopied,       // the runner's own data area: O_DIRECT
  kMapped,       // pages mapped in for this command: O_DIRECT, and a refusal is counted
  kMappedNoGup,  // mapped without a page reference: O_DIRECT cannot pin them, the page cache from the start
};

}  // namespace tcmu_switch
