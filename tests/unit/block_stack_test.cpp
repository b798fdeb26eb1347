#include "block_stack.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tcmu_switch {
namespace {
namespace fs = std::filesystem;

// A sysfs tree as the kernel lays it out for dm-2 (a map over sdc1 and sdd)
// and the partition sdc1 of disk sdc: /sys/dev/block/M:m links to each
// device's directory, a partition's directory sits in its disk's, and a
// stacked device lists what it sits on under slaves/.
class FakeSysfs {
 public:
  FakeSysfs() {
    char tmpl[] = "/tmp/block_stack_test.XXXXXX";
    root_ = mkdtemp(tmpl);
    device("devices/virtual/block/dm-2", "253:2");
    device("devices/pseudo/sdc", "8:32");
    device("devices/pseudo/sdc/sdc1", "8:33");
    std::ofstream(root_ / "devices/pseudo/sdc/sdc1/partition") << "1\n";
    device("devices/pseudo/sdd", "8:48");
    slave("devices/virtual/block/dm-2", "sdc1", "devices/pseudo/sdc/sdc1");
    slave("devices/virtual/block/dm-2", "sdd", "devices/pseudo/sdd");
  }
  ~FakeSysfs() { fs::remove_all(root_); }
  std::string root() const { return root_; }

  void device(const std::string& dir, const std::string& devnum) {
    fs::create_directories(root_ / dir);
    std::ofstream(root_ / dir / "dev") << devnum << "\n";
    fs::create_directories(root_ / "dev/block");
    fs::create_directory_symlink(fs::relative(root_ / dir, root_ / "dev/block"), root_ / "dev/block" / devnum);
  }
  void slave(const std::string& upper, const std::string& name, const std::string& lower) {
    fs::create_directories(root_ / upper / "slaves");
    fs::create_directory_symlink(fs::relative(root_ / lower, root_ / upper / "slaves"),
                                 root_ / upper / "slaves" / name);
  }

 private:
  fs::path root_;
};

TEST(BlockStackTest, DeviceMapperMapListsItsSlavesAndTheirDisks) {
  FakeSysfs sysfs;
  const auto stack = block_stack(makedev(253, 2), sysfs.root());
  ASSERT_EQ(stack.size(), 4u);
  EXPECT_EQ(stack[0], makedev(253, 2));
  EXPECT_NE(std::find(stack.begin(), stack.end(), makedev(8, 33)), stack.end()) << "slave sdc1";
  EXPECT_NE(std::find(stack.begin(), stack.end(), makedev(8, 48)), stack.end()) << "slave sdd";
  EXPECT_NE(std::find(stack.begin(), stack.end(), makedev(8, 32)), stack.end()) << "sdc1's disk";
}

TEST(BlockStackTest, PartitionSitsOnItsDisk) {
  FakeSysfs sysfs;
  EXPECT_EQ(block_stack(makedev(8, 33), sysfs.root()), (std::vector<dev_t>{makedev(8, 33), makedev(8, 32)}));
}

TEST(BlockStackTest, UnknownDeviceIsJustItself) {
  FakeSysfs sysfs;
  EXPECT_EQ(block_stack(makedev(0, 42), sysfs.root()), std::vector<dev_t>{makedev(0, 42)});
}

TEST(BlockStackTest, WritesDeviceNumbersAsSysfsDoes) { EXPECT_EQ(devnum_text(makedev(253, 2)), "253:2"); }

}  // namespace
}  // namespace tcmu_switch
