#include "path_uevents.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "block_stack.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {
namespace fs = std::filesystem;
using test_support::CollectingReporter;

constexpr uint64_t kLunBytes = 1 << 20;

// Two file paths, and a fake sysfs in which the device their file system is
// on sits on a device-mapper map (253:7) over a disk (8:64), so uevents for
// either concern both paths.
class PathUeventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/path_uevents_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (int i = 0; i < 2; i++) {
      const std::string file = (dir_ / ("p" + std::to_string(i))).string();
      std::ofstream(file).close();
      fs::resize_file(file, kLunBytes);
      auto path = Path::open(PathConfig{file, 0, "p" + std::to_string(i)}, static_cast<uint32_t>(i), kLunBytes,
                             reporter_);
      ASSERT_TRUE(path.ok()) << path.status().message();
      paths_.push_back(std::move(path).value());
      path_ptrs_.push_back(paths_.back().get());
    }
    fs_dev_ = *paths_[0]->block_device();
    sysfs_device("fs", devnum_text(fs_dev_));
    sysfs_device("dm-7", "253:7");
    sysfs_device("sde", "8:64");
    sysfs_slave("fs", "dm-7");
    sysfs_slave("dm-7", "sde");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void sysfs_device(const std::string& name, const std::string& devnum) {
    const fs::path d = dir_ / "sys/devices" / name;
    fs::create_directories(d);
    std::ofstream(d / "dev") << devnum << "\n";
    fs::create_directories(dir_ / "sys/dev/block");
    fs::create_directory_symlink(fs::relative(d, dir_ / "sys/dev/block"), dir_ / "sys/dev/block" / devnum);
  }
  void sysfs_slave(const std::string& upper, const std::string& lower) {
    const fs::path slaves = dir_ / "sys/devices" / upper / "slaves";
    fs::create_directories(slaves);
    fs::create_directory_symlink(fs::relative(dir_ / "sys/devices" / lower, slaves), slaves / lower);
  }

  std::unique_ptr<PathUevents> watch() {
    return std::make_unique<PathUevents>(path_ptrs_, [this](uint32_t path_nr) {
      const bool was_healthy = paths_[path_nr]->transition(PathState::kHealthy, PathState::kFailed);
      failed_.push_back(path_nr);
      return was_healthy;
    }, reporter_, (dir_ / "sys").string());
  }

  static Uevent block(const char* action, dev_t dev) {
    Uevent ev;
    ev.action = action;
    ev.subsystem = "block";
    ev.devname = "dev" + devnum_text(dev);
    ev.has_devnum = true;
    ev.devnum = dev;
    return ev;
  }

  fs::path dir_;
  CollectingReporter reporter_;
  std::vector<std::unique_ptr<Path>> paths_;
  std::vector<Path*> path_ptrs_;
  std::vector<uint32_t> failed_;
  dev_t fs_dev_ = 0;
};

TEST_F(PathUeventsTest, ReadsEachPathsStackAtStart) {
  auto w = watch();
  EXPECT_EQ(w->stack(1), (std::vector<dev_t>{fs_dev_, makedev(253, 7), makedev(8, 64)}));
}

TEST_F(PathUeventsTest, RemovalOfADiskBelowFailsEveryPathOnItAtOnceAndLogsTheTime) {
  auto w = watch();
  w->handle(block("remove", makedev(8, 64)), UeventListener::Clock::now());
  EXPECT_EQ(failed_, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(paths_[0]->state(), PathState::kFailed);
  EXPECT_TRUE(reporter_.saw("path 0 (p0, " + paths_[0]->config().device + "): uevent remove of 8:64 (dev8:64)"
                            ", which it sits on: path failed "));
  EXPECT_TRUE(reporter_.saw(" us after the uevent arrived"));
}

TEST_F(PathUeventsTest, OfflineFailsAndAnAlreadyFailedPathIsOnlyNoted) {
  auto w = watch();
  paths_[1]->set_state(PathState::kFailed);
  w->handle(block("offline", fs_dev_), UeventListener::Clock::now());
  EXPECT_EQ(paths_[0]->state(), PathState::kFailed);
  EXPECT_TRUE(reporter_.saw("path 0 (p0"));
  EXPECT_FALSE(reporter_.saw("path 1 (p1, " + paths_[1]->config().device + "): uevent offline of " +
                            devnum_text(fs_dev_) + " (dev" + devnum_text(fs_dev_) + "): path failed"))
      << "path 1 was failed already";
  EXPECT_TRUE(reporter_.saw("path 1 (p1, " + paths_[1]->config().device + "): uevent offline of " +
                            devnum_text(fs_dev_) + " (dev" + devnum_text(fs_dev_) + "): already failed"));
}

TEST_F(PathUeventsTest, UnrelatedDevicesAndSubsystemsChangeNothing) {
  auto w = watch();
  w->handle(block("remove", makedev(8, 80)), UeventListener::Clock::now());
  Uevent scsi = block("remove", makedev(8, 64));
  scsi.subsystem = "scsi_disk";
  w->handle(scsi, UeventListener::Clock::now());
  EXPECT_TRUE(failed_.empty());
  EXPECT_EQ(paths_[0]->state(), PathState::kHealthy);
}

TEST_F(PathUeventsTest, AddOnlyLogsThatTheProberRetries) {
  auto w = watch();
  paths_[0]->set_state(PathState::kFailed);
  w->handle(block("add", makedev(8, 64)), UeventListener::Clock::now());
  EXPECT_EQ(paths_[0]->state(), PathState::kFailed) << "only the prober restores a path";
  EXPECT_TRUE(reporter_.saw("uevent add of 8:64 (dev8:64), which it sits on: the prober retries it"));
}

TEST_F(PathUeventsTest, ChangeOfThePathsDeviceRereadsWhatItSitsOn) {
  auto w = watch();
  // The map now sits on sdf instead of sde (a table swapped under it).
  sysfs_device("sdf", "8:80");
  fs::remove(dir_ / "sys/devices/fs/slaves/dm-7");
  sysfs_slave("fs", "sdf");
  w->handle(block("change", fs_dev_), UeventListener::Clock::now());
  EXPECT_EQ(w->stack(0), (std::vector<dev_t>{fs_dev_, makedev(8, 80)}));
  EXPECT_TRUE(reporter_.saw("now over " + devnum_text(fs_dev_) + " 8:80 (was "));
  w->handle(block("remove", makedev(8, 80)), UeventListener::Clock::now());
  EXPECT_EQ(paths_[0]->state(), PathState::kFailed) << "the new disk below counts";
}

}  // namespace
}  // namespace tcmu_switch
