#include "path_prober.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "scratch_dir.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kLunBytes = 1 << 20;
constexpr uint32_t kIntervalMs = 10;

class PathProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tcmu_switch::test_support::make_scratch_dir("path_prober_test");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Path> open_path(uint32_t path_nr) {
    const std::string f = (dir_ / ("p" + std::to_string(path_nr))).string();
    const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
    EXPECT_EQ(ftruncate(fd, kLunBytes), 0);
    ::close(fd);
    auto path = Path::open({f, 0, "p" + std::to_string(path_nr)}, path_nr, kLunBytes, reporter_);
    EXPECT_TRUE(path.ok()) << path.status().message();
    return std::move(path).value();
  }

  fs::path dir_;
  test_support::CollectingReporter reporter_;
};

bool wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(kIntervalMs));
  return done();
}

TEST_F(PathProberTest, AFailedPathThatAnswersIsRestoredAndReported) {
  auto healthy = open_path(0), failed = open_path(1);
  failed->set_state(PathState::kFailed);
  Path* paths[] = {healthy.get(), failed.get()};
  std::atomic<int> restored_mask{0};
  PathProber prober(paths, kIntervalMs, [&](uint32_t path_nr) { restored_mask |= 1 << path_nr; });
  ASSERT_TRUE(wait_until([&] { return restored_mask.load() != 0; }));
  EXPECT_EQ(restored_mask.load(), 2) << "only the failed path is reported";
  EXPECT_EQ(failed->state(), PathState::kHealthy);
}

TEST_F(PathProberTest, AFailedPathThatCannotBeReadStaysFailed) {
  auto failed = open_path(0);
  failed->set_state(PathState::kFailed);
  ASSERT_EQ(ftruncate(failed->fd(), 0), 0);  // a read at the offset now returns 0 bytes
  Path* paths[] = {failed.get()};
  std::atomic<int> restored{0};
  {
    PathProber prober(paths, kIntervalMs, [&](uint32_t) { restored++; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * kIntervalMs));
  }
  EXPECT_EQ(restored.load(), 0);
  EXPECT_EQ(failed->state(), PathState::kFailed);
}

TEST_F(PathProberTest, ADisabledPathIsLeftAlone) {
  auto disabled = open_path(0);
  disabled->set_state(PathState::kDisabled);
  Path* paths[] = {disabled.get()};
  {
    PathProber prober(paths, kIntervalMs, [](uint32_t) {});
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * kIntervalMs));
  }
  EXPECT_EQ(disabled->state(), PathState::kDisabled);
}

// Two devices' probers share the process's one probing thread, each restores
// only its own paths, and the thread ends with the last.
TEST_F(PathProberTest, EveryProberOfTheProcessRunsOnOneThread) {
  auto a = open_path(0), b = open_path(1);
  a->set_state(PathState::kFailed);
  b->set_state(PathState::kFailed);
  Path* paths_a[] = {a.get()};
  Path* paths_b[] = {b.get()};
  ASSERT_EQ(test_support::threads_named("switch-probe"), 0);
  std::atomic<int> restored_a{0}, restored_b{0};
  {
    PathProber first(paths_a, kIntervalMs, [&](uint32_t) { restored_a++; });
    PathProber second(paths_b, 3 * kIntervalMs, [&](uint32_t) { restored_b++; });
    EXPECT_EQ(test_support::threads_named("switch-probe"), 1);
    ASSERT_TRUE(wait_until([&] { return restored_a.load() == 1 && restored_b.load() == 1; }));
  }
  EXPECT_EQ(a->state(), PathState::kHealthy);
  EXPECT_EQ(b->state(), PathState::kHealthy);
  EXPECT_EQ(test_support::threads_named("switch-probe"), 0);
  PathProber again(paths_a, kIntervalMs, [](uint32_t) {});
  EXPECT_EQ(test_support::threads_named("switch-probe"), 1) << "a new first prober starts a new thread";
}

}  // namespace
}  // namespace tcmu_switch
