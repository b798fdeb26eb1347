// What a failed piece means, and so what the device does next. The rule lives
// here, apart from the device, because getting it wrong fails paths over for
// errors that are not theirs: in multipath mode one refused buffer would then
// fail every path in turn.
#pragma once

#include <cerrno>
#include <cstdint>

#include "io_request.h"

namespace tcmu_switch {

enum class FailureAction : uint8_t {
  kRetryBuffered,  // O_DIRECT refused the buffer; the page cache takes any buffer
  kBufferFault,    // the buffer is unusable even through the page cache: fail the command, not the path
  kPathError,      // the path failed the I/O: count it, fail over in multipath mode
};

// True for the errors with which O_DIRECT refuses a buffer it cannot pin or
// use: EFAULT (no page there), EEXIST (GUP met a special PTE: a no-GUP
// zero-copy slot from tcm_loop, mm/gup.c follow_page_pte) and EINVAL (not
// block aligned: tcmu-runner's own calloc'd buffers for WRITE AND VERIFY,
// COMPARE AND WRITE and WRITE SAME).
constexpr bool buffer_refused(int result) noexcept {
  return result == -EFAULT || result == -EEXIST || result == -EINVAL;
}

// REQUIRES: result < 0. buffered: the piece already went through the page
// cache. Only reads and writes carry a buffer.
constexpr FailureAction failure_action(IoOp op, int result, bool buffered) noexcept {
  const bool transfers = op == IoOp::kRead || op == IoOp::kWrite;
  if (!transfers || !buffer_refused(result)) return FailureAction::kPathError;
  return buffered ? FailureAction::kBufferFault : FailureAction::kRetryBuffered;
}

}  // namespace tcmu_switch
