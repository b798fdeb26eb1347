// The engine alone: lists of requests larger than a ring's submission queue,
// and the limits create() checks.
#include "io_engine.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <iterator>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "scratch_dir.h"
#include "test_support.h"
#include "uring_setup.h"

namespace tcmu_switch {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFileBytes = 1 << 20;
constexpr uint64_t kPieceBytes = 4096;

class CountingCompletion final : public IoCompletion {
 public:
  void io_done(IoRequest* req, int result) noexcept override {
    if (result != static_cast<int>(kPieceBytes)) errors_++;
    if (req->attempts++ != 0) duplicates_++;  // attempts: reused as a "completed" mark
    done_++;
  }
  std::atomic<uint64_t> done_{0}, errors_{0}, duplicates_{0};
};

class IoEngineTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    dir_ = tcmu_switch::test_support::make_scratch_dir("io_engine_test");
    const std::string f = (dir_ / "path0").string();
    const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
    ASSERT_EQ(ftruncate(fd, kFileBytes), 0);
    ::close(fd);
    auto path = Path::open({f, 0, "p0"}, 0, kFileBytes, reporter_);
    ASSERT_TRUE(path.ok()) << path.status().message();
    path_ = std::move(path).value();
    paths_[0] = path_.get();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  test_support::CollectingReporter reporter_;
  std::unique_ptr<Path> path_;
  Path* paths_[1] = {};
  CountingCompletion completion_;
};

// Three times the largest submission queue in one list: the submitter hands
// full queues to the kernel and reaps as it goes, and every request
// completes exactly once.
TEST_P(IoEngineTest, AListLongerThanTheSubmissionQueueCompletesEveryRequestOnce) {
  constexpr size_t kNrRequests = 3 * 4096 + 5;
  auto engine = IoEngine::create(GetParam(), 1, paths_, kNrRequests, completion_, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  test_support::AlignedBuffer buf(kPieceBytes);
  std::vector<iovec> iovs(kNrRequests, iovec{buf.data, kPieceBytes});
  std::vector<IoRequest> reqs(kNrRequests);
  IoRequest* list = nullptr;
  for (size_t i = 0; i < kNrRequests; i++) {
    reqs[i] = IoRequest{.op = IoOp::kRead, .buffered = true, .iov_cnt = 1,
                        .lun_offset = (i * kPieceBytes) % kFileBytes, .len = kPieceBytes, .iov = &iovs[i],
                        .next = list};
    list = &reqs[i];
  }
  engine.value()->submit(0, list);
  for (int i = 0; i < 1000 && completion_.done_.load() < kNrRequests; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(completion_.done_.load(), kNrRequests);
  EXPECT_EQ(completion_.errors_.load(), 0u);
  EXPECT_EQ(completion_.duplicates_.load(), 0u);
}

TEST_P(IoEngineTest, RefusesAQueueBeyondWhatALaneCanHoldInFlight) {
  for (size_t capacity : {size_t{0}, kMaxQueueCapacity + 1}) {
    auto engine = IoEngine::create(GetParam(), 1, paths_, capacity, completion_, reporter_);
    ASSERT_FALSE(engine.ok()) << capacity;
    EXPECT_TRUE(test_support::mentions(engine.status().message(), std::to_string(capacity) + " requests"))
        << engine.status().message();
  }
}

// Makes io_uring_setup() fail with ENOSYS in this process, as on a kernel
// built without io_uring or in a sandbox (Docker's default seccomp profile).
// Irreversible: only for a death test's child.
bool refuse_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

using IoEngineChoiceTest = IoEngineTest;

TEST_F(IoEngineChoiceTest, ForcedIoUringWithoutIoUringIsAnErrorAtCreate) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!refuse_io_uring()) _exit(2);
        auto engine = IoEngine::create(EngineKind::kIoUring, 1, paths_, 64, completion_, reporter_);
        if (engine.ok()) _exit(1);
        std::fprintf(stderr, "%s\n", engine.status().message().c_str());
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "engine = io_uring, but .*Function not implemented.*refuses io_uring");
}

TEST_F(IoEngineChoiceTest, AutoWithoutIoUringFallsBackToSyncAndSaysWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!refuse_io_uring()) _exit(2);
        auto engine = IoEngine::create(EngineKind::kAuto, 1, paths_, 64, completion_, reporter_);
        if (!engine.ok() || engine.value()->kind() != EngineKind::kSync) _exit(1);
        _exit(reporter_.saw("engine = auto: ") && reporter_.saw("Function not implemented; using sync") ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(IoEngineChoiceTest, AutoWithIoUringSaysSo) {
  auto engine = IoEngine::create(EngineKind::kAuto, 1, paths_, 64, completion_, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  EXPECT_EQ(engine.value()->kind(), EngineKind::kIoUring) << "this host has io_uring: auto must take it";
  EXPECT_TRUE(reporter_.saw("engine = auto: io_uring"));
}

TEST_F(IoEngineChoiceTest, TheRingSetUpFlagsAreLoggedOncePerEngine) {
  auto engine = IoEngine::create(EngineKind::kIoUring, 3, paths_, 64, completion_, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  EXPECT_EQ(reporter_.count("io_uring set-up flags: "), 1) << "three lanes, one line";
  // This host's kernel (>= 5.19) takes the fullest set.
  EXPECT_TRUE(reporter_.saw("io_uring set-up flags: COOP_TASKRUN SUBMIT_ALL (SINGLE_ISSUER and DEFER_TASKRUN not used"));
}

// A kernel that knows no COOP_TASKRUN (before 5.19) answers -EINVAL: the
// next set is tried, and the ring it gives works.
unsigned g_refused_flags = 0;
int g_init_calls = 0;
int init_refusing(unsigned entries, io_uring* ring, io_uring_params* params) {
  g_init_calls++;
  if (params->flags & g_refused_flags) return -EINVAL;
  return io_uring_queue_init_params(entries, ring, params);
}

TEST(RingSetUpTest, AFlagTheKernelRefusesIsDroppedAndTheRingWorks) {
  g_refused_flags = IORING_SETUP_COOP_TASKRUN;
  g_init_calls = 0;
  io_uring ring{};
  unsigned taken = ~0u;
  ASSERT_EQ(init_ring(init_refusing, 8, 16, ring, &taken), 0);
  EXPECT_EQ(g_init_calls, 2);
  EXPECT_EQ(taken, static_cast<unsigned>(IORING_SETUP_SUBMIT_ALL));
  EXPECT_EQ(ring_flag_names(taken), "SUBMIT_ALL");
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  ASSERT_EQ(io_uring_submit(&ring), 1);
  io_uring_cqe* cqe = nullptr;
  ASSERT_EQ(io_uring_wait_cqe(&ring, &cqe), 0);
  EXPECT_EQ(cqe->res, 0);
  io_uring_cqe_seen(&ring, cqe);
  io_uring_queue_exit(&ring);
}

TEST(RingSetUpTest, AKernelThatRefusesEveryOptionalFlagGetsAPlainRing) {
  g_refused_flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  g_init_calls = 0;
  io_uring ring{};
  unsigned taken = ~0u;
  ASSERT_EQ(init_ring(init_refusing, 8, 16, ring, &taken), 0);
  EXPECT_EQ(g_init_calls, 3);
  EXPECT_EQ(taken, 0u);
  EXPECT_EQ(ring_flag_names(taken), "none");
  io_uring_queue_exit(&ring);
}

// Any other error is the answer: no point trying sets that only drop flags.
int init_out_of_memory(unsigned, io_uring*, io_uring_params*) {
  g_init_calls++;
  return -ENOMEM;
}

TEST(RingSetUpTest, AnErrorOtherThanAnUnknownFlagIsReturnedAtOnce) {
  g_init_calls = 0;
  io_uring ring{};
  unsigned taken = ~0u;
  EXPECT_EQ(init_ring(init_out_of_memory, 8, 16, ring, &taken), -ENOMEM);
  EXPECT_EQ(g_init_calls, 1);
  EXPECT_EQ(taken, ~0u);
}

INSTANTIATE_TEST_SUITE_P(Engines, IoEngineTest, ::testing::Values(EngineKind::kIoUring, EngineKind::kSync),
                         [](const ::testing::TestParamInfo<EngineKind>& p) {
                           return std::string(p.param == EngineKind::kIoUring ? "IoUring" : "Sync");
                         });

}  // namespace
}  // namespace tcmu_switch
