// The retry rule: which failures blame the buffer and which the path.
#include "io_failure.h"

#include <gtest/gtest.h>

namespace tcmu_switch {
namespace {

TEST(IoFailureTest, ODirectRefusalsOfABufferRetryThroughThePageCache) {
  for (IoOp op : {IoOp::kRead, IoOp::kWrite}) {
    // EEXIST: GUP on a special PTE (a no-GUP zero-copy slot), not EFAULT.
    EXPECT_EQ(failure_action(op, -EEXIST, false), FailureAction::kRetryBuffered);
    EXPECT_EQ(failure_action(op, -EFAULT, false), FailureAction::kRetryBuffered);
    EXPECT_EQ(failure_action(op, -EINVAL, false), FailureAction::kRetryBuffered);
  }
}

TEST(IoFailureTest, ABufferThePageCacheRefusesTooFailsTheCommandNotThePath) {
  for (int err : {EEXIST, EFAULT, EINVAL}) {
    EXPECT_EQ(failure_action(IoOp::kRead, -err, true), FailureAction::kBufferFault) << err;
    EXPECT_EQ(failure_action(IoOp::kWrite, -err, true), FailureAction::kBufferFault) << err;
  }
}

TEST(IoFailureTest, DeviceErrorsBlameThePath) {
  for (int err : {EIO, ENOSPC, ENXIO, ENODEV, EAGAIN}) {
    EXPECT_EQ(failure_action(IoOp::kRead, -err, false), FailureAction::kPathError) << err;
    EXPECT_EQ(failure_action(IoOp::kWrite, -err, true), FailureAction::kPathError) << err;
  }
}

TEST(IoFailureTest, CommandsWithoutABufferNeverBlameOne) {
  for (int err : {EEXIST, EFAULT, EINVAL}) {
    EXPECT_EQ(failure_action(IoOp::kFlush, -err, false), FailureAction::kPathError) << err;
    EXPECT_EQ(failure_action(IoOp::kUnmap, -err, false), FailureAction::kPathError) << err;
  }
}

}  // namespace
}  // namespace tcmu_switch
