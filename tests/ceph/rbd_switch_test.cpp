// SwitchDevice over real Ceph: a placement LUN over two RBD images in
// different pools and one local file. Needs the cluster of mini-cluster.sh;
// run-host-test.sh starts it, passes MINI_CEPH_DIR and stops it afterwards.
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "switch_device.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {
namespace fs = std::filesystem;
using test_support::AlignedBuffer;
using test_support::CollectingReporter;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kLunBytes = 16 << 20;
constexpr uint64_t kRegionSectors = 128;  // 64 KiB
constexpr uint64_t kRegionBytes = kRegionSectors * kSectorBytes;
constexpr uint64_t kCommandBytes = 256 << 10;
// mini-cluster.sh sets rados_osd_op_timeout to this for its clients.
constexpr int kOsdOpTimeoutS = 5;
const char* const kDevices[] = {"rbd:ssd/lun0", "rbd:hdd/lun0", "local file"};

std::string cluster_dir() {
  const char* dir = std::getenv("MINI_CEPH_DIR");
  return dir != nullptr ? dir : "";
}

class WaitingSink : public CommandSink {
 public:
  void command_done(void* user, IoStatus status) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    done_[user] = status;
    cv_.notify_all();
  }
  // Nullopt-like kHardwareError with a failure when it takes longer than secs.
  IoStatus wait(void* user, int secs) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::seconds(secs), [&] { return done_.contains(user); })) {
      ADD_FAILURE() << "command not done after " << secs << " s";
      return IoStatus::kHardwareError;
    }
    const IoStatus s = done_[user];
    done_.erase(user);
    return s;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<void*, IoStatus> done_;
};

// Reads what an RBD image holds, with a handle of its own.
std::vector<char> read_image(const std::string& conf, const char* pool, uint64_t off, uint64_t len) {
  rados_t cluster = nullptr;
  rados_ioctx_t io = nullptr;
  rbd_image_t image = nullptr;
  std::vector<char> data(len);
  EXPECT_EQ(rados_create(&cluster, nullptr), 0);
  EXPECT_EQ(rados_conf_read_file(cluster, conf.c_str()), 0);
  EXPECT_EQ(rados_connect(cluster), 0);
  EXPECT_EQ(rados_ioctx_create(cluster, pool, &io), 0);
  EXPECT_EQ(rbd_open(io, "lun0", &image, nullptr), 0);
  EXPECT_EQ(rbd_read(image, off, len, data.data()), static_cast<ssize_t>(len));
  rbd_close(image);
  rados_ioctx_destroy(io);
  rados_shutdown(cluster);
  return data;
}

class RbdSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(cluster_dir().empty()) << "MINI_CEPH_DIR is not set: run tests/ceph/run-host-test.sh";
    conf_ = cluster_dir() + "/ceph.conf";
    file_ = cluster_dir() + "/local.img";
    std::ofstream(file_).close();
    fs::resize_file(file_, kLunBytes);
    DeviceConfig c;
    c.source = "rbd_switch_test";
    c.region_sectors = kRegionSectors;
    c.mode = Mode::kPlacement;  // round-robin: region r on path r % 3
    for (int i = 0; i < 2; i++) c.paths.push_back({kDevices[i], 0, "rbd" + std::to_string(i), conf_, ""});
    c.paths.push_back({file_, 0, "file", "", ""});
    auto dev = SwitchDevice::open(c, DeviceLimits{kLunBytes}, sink_, reporter_);
    ASSERT_TRUE(dev.ok()) << dev.status().message();
    device_ = std::move(dev).value();
  }
  void TearDown() override { device_.reset(); }

  IoStatus write(uint64_t off, const char* data, uint64_t len, int secs) {
    AlignedBuffer buf(len);
    std::memcpy(buf.data, data, len);
    iovec iov{buf.data, len};
    const IoStatus s = device_->write(&iov, &iov, 1, off, len, false);
    return s == IoStatus::kOk ? sink_.wait(&iov, secs) : s;
  }
  IoStatus read(uint64_t off, char* data, uint64_t len, int secs) {
    AlignedBuffer buf(len);
    iovec iov{buf.data, len};
    IoStatus s = device_->read(&iov, &iov, 1, off, len);
    if (s == IoStatus::kOk) s = sink_.wait(&iov, secs);
    std::memcpy(data, buf.data, len);
    return s;
  }
  // The state letter of /proc/PID/stat is T once SIGSTOP took effect.
  static bool stopped(pid_t pid) {
    for (int i = 0; i < 100; i++) {
      std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
      std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const size_t paren = stat.rfind(')');
      if (paren != std::string::npos && stat.compare(paren + 2, 1, "T") == 0) return true;
      usleep(10000);
    }
    return false;
  }
  pid_t osd_pid() {
    std::ifstream in(cluster_dir() + "/run/osd.0.pid");
    pid_t pid = 0;
    in >> pid;
    return pid;
  }

  std::string conf_, file_;
  CollectingReporter reporter_;
  WaitingSink sink_;
  std::unique_ptr<SwitchDevice> device_;
};

TEST_F(RbdSwitchTest, EveryRegionLandsOnTheImageOrFileTheTableNames) {
  std::vector<char> data(kLunBytes);
  std::mt19937_64 rng(17);
  for (auto& b : data) b = static_cast<char>(rng());
  for (uint64_t off = 0; off < kLunBytes; off += kCommandBytes)
    ASSERT_EQ(write(off, &data[off], kCommandBytes, 30), IoStatus::kOk) << "write at " << off;
  std::vector<char> back(kLunBytes);
  for (uint64_t off = 0; off < kLunBytes; off += kCommandBytes)
    ASSERT_EQ(read(off, &back[off], kCommandBytes, 30), IoStatus::kOk) << "read at " << off;
  EXPECT_TRUE(back == data) << "the LUN reads back what was written";

  const auto table = device_->snapshot();
  const std::vector<char> images[] = {read_image(conf_, "ssd", 0, kLunBytes), read_image(conf_, "hdd", 0, kLunBytes)};
  std::vector<char> file(kLunBytes);
  std::ifstream(file_, std::ios::binary).read(file.data(), kLunBytes);
  uint64_t per_path[3] = {};
  for (uint64_t r = 0; r < kLunBytes / kRegionBytes; r++) {
    const uint32_t p = table->path_nr(r);
    const char* held = (p < 2 ? images[p].data() : file.data()) + r * kRegionBytes;
    ASSERT_EQ(std::memcmp(held, &data[r * kRegionBytes], kRegionBytes), 0)
        << "region " << r << " is not on " << kDevices[p] << ", as the table says";
    per_path[p]++;
  }
  for (int p = 0; p < 3; p++) EXPECT_GT(per_path[p], 0u) << kDevices[p] << " holds no region";
}

TEST_F(RbdSwitchTest, StoppedOsdFailsRbdRegionsWithinTheTimeoutAndIoResumesAfterwards) {
  const std::vector<char> data(kRegionBytes, 'x');
  const pid_t osd = osd_pid();
  ASSERT_GT(osd, 0);
  ASSERT_EQ(kill(osd, SIGSTOP), 0);
  ASSERT_TRUE(stopped(osd)) << "osd.0 (pid " << osd << ") did not stop";
  const auto start = Clock::now();
  // Region 0 is on rbd:ssd/lun0, region 2 on the local file.
  const IoStatus rbd = write(0, data.data(), kRegionBytes, kOsdOpTimeoutS + 20);
  const auto waited = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  const IoStatus local = write(2 * kRegionBytes, data.data(), kRegionBytes, 10);
  ASSERT_EQ(kill(osd, SIGCONT), 0);
  EXPECT_EQ(rbd, IoStatus::kWriteError) << "the OSD was stopped";
  EXPECT_LE(waited, kOsdOpTimeoutS + 10) << "bounded by rados_osd_op_timeout";
  EXPECT_EQ(local, IoStatus::kOk) << "the file path does not wait for Ceph";
  const DeviceReport report = device_->report();
  EXPECT_GE(report.paths[0].stats[PathCounter::kErrors], 1u) << "the error is the RBD path's";
  EXPECT_EQ(report.paths[2].stats[PathCounter::kErrors], 0u);

  // Resumed: the write goes through and reads back.
  IoStatus again = IoStatus::kWriteError;
  for (int i = 0; i < 10 && again != IoStatus::kOk; i++) again = write(0, data.data(), kRegionBytes, 30);
  EXPECT_EQ(again, IoStatus::kOk) << "I/O resumes once the OSD runs again";
  std::vector<char> back(kRegionBytes);
  EXPECT_EQ(read(0, back.data(), kRegionBytes, 30), IoStatus::kOk);
  EXPECT_TRUE(back == data);
}

TEST_F(RbdSwitchTest, ImageSmallerThanItsShareIsRefusedNamingIt) {
  DeviceConfig c;
  c.source = "rbd_switch_test";
  c.region_sectors = kRegionSectors;
  c.paths.push_back({kDevices[0], 60 << 20, "rbd0", conf_, ""});  // 60 MiB into a 64 MiB image
  CollectingReporter reporter;
  WaitingSink sink;
  auto dev = SwitchDevice::open(c, DeviceLimits{kLunBytes}, sink, reporter);
  ASSERT_FALSE(dev.ok());
  EXPECT_TRUE(test_support::mentions(dev.status().message(), "path 0 (rbd:ssd/lun0) holds 67108864 bytes"));
}

TEST_F(RbdSwitchTest, MissingImageIsRefusedNamingTheCall) {
  DeviceConfig c;
  c.source = "rbd_switch_test";
  c.region_sectors = kRegionSectors;
  c.paths.push_back({"rbd:ssd/nosuch", 0, "rbd0", conf_, ""});
  CollectingReporter reporter;
  WaitingSink sink;
  auto dev = SwitchDevice::open(c, DeviceLimits{kLunBytes}, sink, reporter);
  ASSERT_FALSE(dev.ok());
  EXPECT_TRUE(test_support::mentions(dev.status().message(), "path 0 (rbd:ssd/nosuch): rbd_open: No such file"));
}

// Fencing: the cluster blocklists every client on 127.0.0.1 (an address with
// port 0 and nonce 0 covers the whole IP). A multipath LUN over the RBD image
// and a file must fail the write and not send it to the file instead.
TEST_F(RbdSwitchTest, FencedWriteFailsWithoutFailoverAndIsLoggedOnce) {
  device_.reset();
  DeviceConfig c;
  c.source = "rbd_switch_test";
  c.region_sectors = kRegionSectors;
  c.mode = Mode::kMultipath;
  c.default_mapping = DefaultMapping::fixed(0);  // every region on the RBD path
  c.paths.push_back({kDevices[0], 0, "rbd0", conf_, ""});
  c.paths.push_back({file_, 0, "file", "", ""});
  auto dev = SwitchDevice::open(c, DeviceLimits{kLunBytes}, sink_, reporter_);
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  device_ = std::move(dev).value();
  // Four regions, four pieces on the RBD path: four fenced completions.
  const uint64_t len = 4 * kRegionBytes;
  const std::vector<char> data(len, 'f');
  ASSERT_EQ(write(0, data.data(), len, 30), IoStatus::kOk);

  const std::string ceph = "timeout 60 ceph -c " + conf_ + " osd blocklist ";
  ASSERT_EQ(std::system((ceph + "add 127.0.0.1:0/0").c_str()), 0);
  IoStatus fenced = IoStatus::kOk;
  // The OSD refuses us once it has the new map.
  for (int i = 0; i < 20 && fenced == IoStatus::kOk; i++) {
    fenced = write(0, data.data(), len, kOsdOpTimeoutS + 20);
    if (fenced == IoStatus::kOk) usleep(500000);
  }
  EXPECT_EQ(std::system((ceph + "rm 127.0.0.1:0/0").c_str()), 0);
  EXPECT_EQ(fenced, IoStatus::kWriteError);
  const DeviceReport report = device_->report();
  EXPECT_EQ(report.paths[1].stats[PathCounter::kWrites], 0u) << "a fenced write went to the other path";
  EXPECT_EQ(report.paths[0].stats[PathCounter::kFailovers], 0u);
  EXPECT_EQ(report.paths[0].state, PathState::kFailed);
  EXPECT_EQ(reporter_.count("blocklisted this client (fenced)"), 1) << "logged once per path";
}

}  // namespace
}  // namespace tcmu_switch
