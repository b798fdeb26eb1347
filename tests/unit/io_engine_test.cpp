// The engine alone: lists of requests larger than a ring holds, devices
// sharing lanes, one engine per process.
#include "io_engine.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "path.h"
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
    if (result != (req->op == IoOp::kFlush ? 0 : static_cast<int>(kPieceBytes))) errors_++;
    if (req->attempts++ != 0) duplicates_++;  // attempts: reused as a "completed" mark
    done_++;
  }
  bool wait_for(uint64_t n) const {
    for (int i = 0; i < 1000 && done_.load() < n; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done_.load() == n;
  }
  std::atomic<uint64_t> done_{0}, errors_{0}, duplicates_{0};
};

// One device as the engine sees it: a file for its one path, its own
// completion and reporter.
struct TestDevice {
  TestDevice(const fs::path& dir, const std::string& name) {
    const std::string f = (dir / name).string();
    const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
    EXPECT_EQ(ftruncate(fd, kFileBytes), 0);
    ::close(fd);
    auto opened = Path::open({f, 0, name}, 0, kFileBytes, reporter);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    path = std::move(opened).value();
    paths[0] = path.get();
    target = IoTarget{.paths = paths, .completion = &completion, .reporter = &reporter};
  }
  // n requests, each writing (or reading) buf to block i of the file.
  IoRequest* requests(IoOp op, size_t n, void* buf) {
    iovs.assign(n, iovec{buf, kPieceBytes});
    reqs.assign(n, IoRequest{});
    IoRequest* list = nullptr;
    for (size_t i = 0; i < n; i++) {
      reqs[i] = IoRequest{.op = op, .iov_cnt = 1, .lun_offset = (i * kPieceBytes) % kFileBytes,
                          .len = kPieceBytes, .iov = &iovs[i], .target = &target, .next = list};
      list = &reqs[i];
    }
    return list;
  }
  std::string first_block() const {
    std::ifstream in(path->config().device, std::ios::binary);
    std::string block(kPieceBytes, '\0');
    in.read(block.data(), kPieceBytes);
    return block;
  }

  test_support::CollectingReporter reporter;
  std::unique_ptr<Path> path;
  Path* paths[1] = {};
  CountingCompletion completion;
  IoTarget target;
  std::vector<iovec> iovs;
  std::vector<IoRequest> reqs;
};

class IoEngineTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override { dir_ = tcmu_switch::test_support::make_scratch_dir("io_engine_test"); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  test_support::CollectingReporter reporter_;
};

// More requests in one list than the largest submission queue and than a
// ring holds in flight (8128): the submitter hands full queues to the
// kernel, the rest wait in the lane, and every request completes exactly once.
// Flushes complete later, from io-wq, in commands of four: the io_uring lane
// is frozen (only its worker reaps, counting completions) when the second
// half comes, and its requests wait for room that only that reaping makes.
TEST_P(IoEngineTest, AListLongerThanTheRingHoldsCompletesEveryRequestOnce) {
  constexpr size_t kNrRequests = 2 * 8192 + 5;
  auto engine = IoEngine::create(GetParam(), 1, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  TestDevice dev(dir_, "path0");
  IoRequest* list = dev.requests(IoOp::kFlush, kNrRequests, nullptr);
  std::vector<IoGroup> commands(kNrRequests / 4 + 1);
  for (size_t i = 0; i < kNrRequests; i++) dev.reqs[i].group = &commands[i / 4];
  constexpr size_t kHalf = kNrRequests / 2;  // the list runs from the last request to the first
  dev.reqs[kHalf].next = nullptr;
  engine.value()->submit(0, list);
  engine.value()->submit(0, &dev.reqs[kHalf - 1]);
  EXPECT_TRUE(dev.completion.wait_for(kNrRequests)) << dev.completion.done_.load();
  EXPECT_EQ(dev.completion.errors_.load(), 0u);
  EXPECT_EQ(dev.completion.duplicates_.load(), 0u);
}

// Two devices on one lane at once: each request reaches its own device's file
// and its own completion.
TEST_P(IoEngineTest, TwoDevicesOnOneLaneEachGetTheirOwnFilesAndCompletions) {
  auto engine = IoEngine::create(GetParam(), 1, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  TestDevice a(dir_, "a"), b(dir_, "b");
  test_support::AlignedBuffer ones(kPieceBytes), twos(kPieceBytes);
  std::memset(ones.data, 1, kPieceBytes);
  std::memset(twos.data, 2, kPieceBytes);
  IoRequest* list_a = a.requests(IoOp::kWrite, 64, ones.data);
  IoRequest* list_b = b.requests(IoOp::kWrite, 64, twos.data);
  a.reqs.front().next = list_b;  // one list, both devices (front is its last)
  engine.value()->submit(0, list_a);
  EXPECT_TRUE(a.completion.wait_for(64));
  EXPECT_TRUE(b.completion.wait_for(64));
  EXPECT_EQ(a.completion.errors_.load() + b.completion.errors_.load(), 0u);
  EXPECT_TRUE(a.first_block() == std::string(kPieceBytes, '\1')) << "a's file";
  EXPECT_TRUE(b.first_block() == std::string(kPieceBytes, '\2')) << "b's file";
}

// Commands of eight pieces, one after the other. An fsync always completes
// from io-wq, each on its own, so the lane sees a command's pieces finish one
// by one: its worker sleeps until the command can have finished (IoGroup,
// GroupsInFlight) and wakes to work once for it, not once per piece. (It may
// also wake idle once, on the first piece, to learn what to count.)
using UringLaneTest = IoEngineTest;
TEST_F(UringLaneTest, TheWorkerWakesToWorkOncePerCommandNotOncePerPiece) {
  constexpr int kCommands = 32, kPieces = 8;
  auto engine = IoEngine::create(EngineKind::kIoUring, 1, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  TestDevice dev(dir_, "path0");
  dev.requests(IoOp::kFlush, kCommands * kPieces, nullptr);
  std::vector<IoGroup> commands(kCommands);
  IoEngine& e = *engine.value();
  const uint64_t woken_before = e.wakeups() - e.idle_wakeups();
  for (int c = 0; c < kCommands; c++) {
    IoRequest* list = nullptr;
    for (int p = 0; p < kPieces; p++) {
      IoRequest& req = dev.reqs[c * kPieces + p];
      req.group = &commands[c];
      req.next = list;
      list = &req;
    }
    e.submit(0, list);
    ASSERT_TRUE(dev.completion.wait_for((c + 1) * kPieces)) << dev.completion.done_.load();
  }
  const uint64_t woken = e.wakeups() - e.idle_wakeups() - woken_before;
  std::printf("%d commands of %d pieces: the worker woke to work %llu times (%llu idle wake-ups)\n", kCommands,
              kPieces, static_cast<unsigned long long>(woken), static_cast<unsigned long long>(e.idle_wakeups()));
  EXPECT_LE(woken, static_cast<uint64_t>(kCommands));
  EXPECT_EQ(dev.completion.errors_.load(), 0u);
  EXPECT_EQ(dev.completion.duplicates_.load(), 0u);
  for (const IoGroup& c : commands) EXPECT_EQ(c.in_flight, 0u);
}

int io_threads() { return test_support::threads_named("switch-io"); }

// Devices asking for the same kind and size share one engine (auto takes the
// running io_uring one); its threads go with the last owner.
TEST(SharedEngineTest, OneEnginePerKindAndSizeUntilTheLastOwnerLetsGo) {
  test_support::CollectingReporter reporter;
  ASSERT_EQ(io_threads(), 0) << "an engine of an earlier test still runs";
  auto first = IoEngine::shared(EngineKind::kIoUring, 2, reporter);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = IoEngine::shared(EngineKind::kIoUring, 2, reporter);
  auto by_auto = IoEngine::shared(EngineKind::kAuto, 2, reporter);
  auto other_size = IoEngine::shared(EngineKind::kIoUring, 3, reporter);
  ASSERT_TRUE(second.ok() && by_auto.ok() && other_size.ok());
  EXPECT_EQ(first.value(), second.value());
  EXPECT_EQ(first.value(), by_auto.value());
  EXPECT_NE(first.value(), other_size.value());
  EXPECT_EQ(reporter.count("sharing the running io_uring engine"), 2);
  EXPECT_EQ(io_threads(), 5) << "2 + 3 lanes, however many owners";
  first.value().reset();
  second.value().reset();
  other_size.value().reset();
  EXPECT_EQ(io_threads(), 2) << "auto's share keeps the 2-lane engine";
  by_auto.value().reset();
  EXPECT_EQ(io_threads(), 0);
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
        auto engine = IoEngine::create(EngineKind::kIoUring, 1, reporter_);
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
        auto engine = IoEngine::create(EngineKind::kAuto, 1, reporter_);
        if (!engine.ok() || engine.value()->kind() != EngineKind::kSync) _exit(1);
        _exit(reporter_.saw("engine = auto: ") && reporter_.saw("Function not implemented; using sync") ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(IoEngineChoiceTest, AutoWithIoUringSaysSo) {
  auto engine = IoEngine::create(EngineKind::kAuto, 1, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  EXPECT_EQ(engine.value()->kind(), EngineKind::kIoUring) << "this host has io_uring: auto must take it";
  EXPECT_TRUE(reporter_.saw("engine = auto: io_uring"));
}

// A thread keeps its lane (its commands' completions then come back as task
// work on one ring), and threads that ask one after another are dealt
// different lanes.
TEST_F(IoEngineChoiceTest, AThreadKeepsOneLaneAndThreadsAreDealtRoundTheLanes) {
  auto engine = IoEngine::create(EngineKind::kIoUring, 2, reporter_);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const IoEngine& e = *engine.value();
  const uint32_t mine = e.lane_of_calling_thread();
  EXPECT_LT(mine, 2u);
  EXPECT_EQ(e.lane_of_calling_thread(), mine);
  uint32_t first = 0, second = 0;
  std::thread([&] { first = e.lane_of_calling_thread(); }).join();
  std::thread([&] { second = e.lane_of_calling_thread(); }).join();
  EXPECT_NE(first, second);
}

TEST_F(IoEngineChoiceTest, TheRingSetUpFlagsAreLoggedOncePerEngine) {
  auto engine = IoEngine::create(EngineKind::kIoUring, 3, reporter_);
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

// The probe asks the running kernel: memory it pins, it registers; a page it
// cannot pin for writing (PROT_NONE) is refused, and the refusal is what it
// returns.
TEST(FixedBufferProbeTest, RegistersAnonymousMemoryAndReportsARefusal) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* area = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  EXPECT_EQ(probe_buffer_registration(area, page), 0);
  auto* guard = static_cast<char*>(area) + page;
  ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);
  EXPECT_EQ(probe_buffer_registration(guard, page), -EFAULT);
  munmap(area, 2 * page);
}

TEST(FixedBufferProbeTest, TheVerdictNeverTurnsFixedBuffersOnAndSaysWhy) {
  EXPECT_EQ(fixed_buffer_verdict(-EOPNOTSUPP),
            "fixed buffers: not used: the kernel refuses to register the TCMU data area (Operation not supported)");
  const std::string pinned = fixed_buffer_verdict(0);
  EXPECT_EQ(pinned.rfind("fixed buffers: not used: the kernel registers the TCMU data area", 0), 0u) << pinned;
  EXPECT_NE(pinned.find("find_free_blocks"), std::string::npos) << pinned;
}

INSTANTIATE_TEST_SUITE_P(Engines, IoEngineTest, ::testing::Values(EngineKind::kIoUring, EngineKind::kSync),
                         [](const ::testing::TestParamInfo<EngineKind>& p) {
                           return std::string(p.param == EngineKind::kIoUring ? "IoUring" : "Sync");
                         });

}  // namespace
}  // namespace tcmu_switch
