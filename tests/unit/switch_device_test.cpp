// SwitchDevice end to end on the host: real files as paths, both engines.
#include "switch_device.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "scratch_dir.h"
#include "table_file.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::AlignedBuffer;
using test_support::CollectingReporter;

namespace fs = std::filesystem;

constexpr uint64_t kLunBytes = 4 << 20;
constexpr uint64_t kRegionSectors = 128;  // 64 KiB
constexpr uint64_t kRegionBytes = kRegionSectors * kSectorBytes;

// Records every completion; a command completed twice is a test failure.
class RecordingSink : public CommandSink {
 public:
  void command_done(void* user, IoStatus status) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!done_.emplace(user, status).second) duplicates_++;
    cv_.notify_all();
  }
  IoStatus wait(void* user) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool ok = cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_.contains(user); });
    EXPECT_TRUE(ok) << "command never completed";
    const IoStatus s = ok ? done_[user] : IoStatus::kHardwareError;
    done_.erase(user);
    return s;
  }
  int duplicates() {
    std::lock_guard<std::mutex> lock(mutex_);
    return duplicates_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<void*, IoStatus> done_;
  int duplicates_ = 0;
};

class SwitchDeviceTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    dir_ = tcmu_switch::test_support::make_scratch_dir("switch_device_test");
  }
  void TearDown() override {
    device_.reset();
    fs::remove_all(dir_);
  }

  std::string path_file(int i) { return (dir_ / ("path" + std::to_string(i))).string(); }

  DeviceConfig make_config(Mode mode, int nr_paths) {
    DeviceConfig c;
    c.source = "test";
    c.region_sectors = kRegionSectors;
    c.mode = mode;
    c.engine = GetParam();
    c.probe_interval_ms = 20;
    for (int i = 0; i < nr_paths; i++) {
      const std::string f = path_file(i);
      int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
      EXPECT_EQ(ftruncate(fd, kLunBytes), 0);
      ::close(fd);
      c.paths.push_back({f, 0, "p" + std::to_string(i)});
    }
    return c;
  }

  void open_device(const DeviceConfig& c, uint64_t max_xfer_bytes = 1 << 20) {
    auto d = SwitchDevice::open(c, {kLunBytes, max_xfer_bytes, 32}, sink_, reporter_);
    ASSERT_TRUE(d.ok()) << d.status().message();
    device_ = std::move(d).value();
  }

  IoStatus write(AlignedBuffer& buf, uint64_t off, uint64_t len, bool fua = false) {
    iovec iov{buf.data, len};
    const IoStatus queued = device_->write(&buf, &iov, 1, off, len, fua);
    return queued == IoStatus::kOk ? sink_.wait(&buf) : queued;
  }
  IoStatus read(AlignedBuffer& buf, uint64_t off, uint64_t len) {
    iovec iov{buf.data, len};
    const IoStatus queued = device_->read(&buf, &iov, 1, off, len);
    return queued == IoStatus::kOk ? sink_.wait(&buf) : queued;
  }

  std::vector<char> file_bytes(int path, uint64_t off, uint64_t len) {
    std::vector<char> out(len);
    int fd = ::open(path_file(path).c_str(), O_RDONLY);
    EXPECT_EQ(pread(fd, out.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
    ::close(fd);
    return out;
  }

  // Each region of [off, off + len) holds data's bytes on its round-robin
  // path (3 paths) and zeroes on the others.
  void expect_placed(uint64_t off, const unsigned char* data, uint64_t len) {
    for (uint64_t pos = off; pos < off + len;) {
      const uint64_t region = pos / kRegionBytes;
      const uint64_t piece = std::min(off + len, (region + 1) * kRegionBytes) - pos;
      const int owner = static_cast<int>(region % 3);
      for (int p = 0; p < 3; p++) {
        const std::vector<char> got = file_bytes(p, pos, piece);
        if (p == owner)
          ASSERT_EQ(std::memcmp(got.data(), data + (pos - off), piece), 0) << "region " << region;
        else
          ASSERT_EQ(std::count(got.begin(), got.end(), 0), static_cast<long>(piece))
              << "region " << region << " leaked onto path " << p;
      }
      pos += piece;
    }
  }

  fs::path dir_;
  CollectingReporter reporter_;
  RecordingSink sink_;
  std::unique_ptr<SwitchDevice> device_;
};

void fill_pattern(unsigned char* p, uint64_t len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < len; i += 8) {
    const uint64_t v = rng();
    std::memcpy(p + i, &v, std::min<uint64_t>(8, len - i));
  }
}

TEST_P(SwitchDeviceTest, PlacementPutsEveryRegionOnItsPathOnly) {
  open_device(make_config(Mode::kPlacement, 3));
  EXPECT_EQ(device_->report().engine, GetParam());
  // An unaligned 1 MiB write spans 17 regions.
  const uint64_t off = kRegionBytes / 2, len = 1 << 20;
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 1);
  ASSERT_EQ(write(data, off, len), IoStatus::kOk);
  expect_placed(off, data.bytes(), len);
  AlignedBuffer back(len);
  ASSERT_EQ(read(back, off, len), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), len), 0);
  EXPECT_EQ(sink_.duplicates(), 0);

  // 64 regions fit 1024 buckets one to one: regions 0..16 saw a write and a read.
  const RegionHistogram h = device_->region_histogram();
  EXPECT_EQ(h.bucket_shift, 0u);
  EXPECT_EQ(h.ios[0], 2u);
  EXPECT_EQ(h.ios[16], 2u);
  EXPECT_EQ(h.ios[17], 0u);
}

TEST_P(SwitchDeviceTest, EveryCommandCompletesExactlyOnceUnderLoad) {
  open_device(make_config(Mode::kPlacement, 3));
  std::mt19937_64 rng(7);
  constexpr int kCommands = 400;
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  std::vector<void*> users;
  std::vector<iovec> iovs(kCommands);  // a queued command reads its iovecs when it starts
  for (int i = 0; i < kCommands; i++) {
    const uint64_t len = (1 + rng() % 64) * 4096;
    const uint64_t off = (rng() % ((kLunBytes - len) / 4096)) * 4096;
    bufs.push_back(std::make_unique<AlignedBuffer>(len));
    iovec& iov = iovs[i];
    iov = {bufs.back()->data, len};
    IoStatus s = (i % 2) ? device_->read(bufs.back().get(), &iov, 1, off, len)
                         : device_->write(bufs.back().get(), &iov, 1, off, len, i % 3 == 0);
    while (s == IoStatus::kBusy) {  // pools hold 64 commands: wait for room as an initiator would
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      s = (i % 2) ? device_->read(bufs.back().get(), &iov, 1, off, len)
                  : device_->write(bufs.back().get(), &iov, 1, off, len, false);
    }
    ASSERT_EQ(s, IoStatus::kOk);
    users.push_back(bufs.back().get());
  }
  for (void* u : users) EXPECT_EQ(sink_.wait(u), IoStatus::kOk);
  EXPECT_EQ(sink_.duplicates(), 0);
}

TEST_P(SwitchDeviceTest, FlushReachesEveryPath) {
  open_device(make_config(Mode::kPlacement, 3));
  int token = 0;
  ASSERT_EQ(device_->flush(&token), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&token), IoStatus::kOk);
  for (const PathReport& p : device_->report().paths) EXPECT_EQ(p.stats[PathCounter::kFlushes], 1u) << p.config.name;
}

TEST_P(SwitchDeviceTest, UnmapDeallocatesOnTheOwningPath) {
  open_device(make_config(Mode::kPlacement, 3));
  AlignedBuffer data(kRegionBytes);
  std::memset(data.data, 0xab, kRegionBytes);
  ASSERT_EQ(write(data, kRegionBytes, kRegionBytes), IoStatus::kOk);  // region 1 -> path 1
  int token = 0;
  ASSERT_EQ(device_->unmap(&token, kRegionBytes, kRegionBytes), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&token), IoStatus::kOk);
  const std::vector<char> after = file_bytes(1, kRegionBytes, kRegionBytes);
  EXPECT_EQ(std::count(after.begin(), after.end(), 0), static_cast<long>(kRegionBytes));
  EXPECT_EQ(device_->report().paths[1].stats[PathCounter::kUnmaps], 1u);
}

// LIO does not hold initiators to the Block Limits page: a command may be far
// longer than the transfer length the pools were sized for.
TEST_P(SwitchDeviceTest, CommandsLongerThanTheMaxTransferGoInWindows) {
  open_device(make_config(Mode::kPlacement, 3), 96 * 1024);
  const uint64_t off = kRegionBytes / 2 + 4096, len = 2 << 20;  // unaligned: 33 regions, 22 windows
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 3);
  // Uneven iovecs, so windows and iovecs end in different places.
  const std::vector<size_t> sizes = {4096, 300 * 1024, len - 4096 - 300 * 1024};
  std::vector<iovec> iov;
  for (size_t at = 0; const size_t n : sizes) {
    iov.push_back({data.bytes() + at, n});
    at += n;
  }
  ASSERT_EQ(device_->write(&data, iov.data(), iov.size(), off, len, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&data), IoStatus::kOk);
  expect_placed(off, data.bytes(), len);
  AlignedBuffer back(len);
  ASSERT_EQ(read(back, off, len), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), len), 0);

  int token = 0;
  ASSERT_EQ(device_->unmap(&token, 0, kLunBytes), IoStatus::kOk);  // the whole LUN: 64 regions
  ASSERT_EQ(sink_.wait(&token), IoStatus::kOk);
  for (int p = 0; p < 3; p++) {
    const std::vector<char> after = file_bytes(p, 0, kLunBytes);
    EXPECT_EQ(std::count(after.begin(), after.end(), 0), static_cast<long>(kLunBytes)) << "path " << p;
  }
  EXPECT_EQ(sink_.duplicates(), 0);
  EXPECT_EQ(device_->report().busy, 0u);
}

// Every window of a command routes in the generation its first window saw,
// while another thread swaps the whole table between "all on path 0" and
// "all on path 1": each command's writes land on one path only.
TEST_P(SwitchDeviceTest, AManyWindowCommandRoutesEveryWindowInOneGeneration) {
  open_device(make_config(Mode::kPlacement, 2), kRegionBytes);  // one window per region: 64 windows
  const uint64_t nr_regions = kLunBytes / kRegionBytes;
  auto all_on = [&](int path_nr) {  // region 0, then R1,<hex count>: every region on path_nr
    char text[64];
    std::snprintf(text, sizeof(text), "0:%d R1,%llx", path_nr, static_cast<unsigned long long>(nr_regions - 1));
    return std::string(text);
  };
  ASSERT_TRUE(device_->apply_mappings(all_on(0)).ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> publishes{0};
  std::thread publisher([&] {
    for (int p = 1; !stop.load(); p ^= 1) {
      ASSERT_TRUE(device_->apply_mappings(all_on(p)).ok());
      publishes++;
      // Let report() have the control mutex now and then: std::mutex is not fair.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  AlignedBuffer data(kLunBytes);
  int mixed = 0, whole[2] = {0, 0};
  for (int i = 0; i < 200 && (i < 20 || whole[0] == 0 || whole[1] == 0 || publishes.load() < 100); i++) {
    const DeviceReport before = device_->report();
    ASSERT_EQ(write(data, 0, kLunBytes), IoStatus::kOk);
    const DeviceReport after = device_->report();
    uint64_t grew[2];
    for (int p = 0; p < 2; p++)
      grew[p] = after.paths[p].stats[PathCounter::kWrites] - before.paths[p].stats[PathCounter::kWrites];
    ASSERT_EQ(grew[0] + grew[1], nr_regions);
    if (grew[0] != 0 && grew[1] != 0) {
      mixed++;
    } else {
      whole[grew[0] != 0 ? 0 : 1]++;
    }
  }
  stop = true;
  publisher.join();
  EXPECT_EQ(mixed, 0) << "commands whose windows routed in two generations (" << publishes.load()
                      << " tables published meanwhile)";
  std::printf("%d commands wholly on path 0, %d on path 1, %llu tables published meanwhile\n", whole[0], whole[1],
              static_cast<unsigned long long>(publishes.load()));
  EXPECT_GT(whole[0], 0) << "no command ran wholly on path 0: the swaps never met the writes";
  EXPECT_GT(whole[1], 0) << "no command ran wholly on path 1: the swaps never met the writes";
}

TEST_P(SwitchDeviceTest, OutOfRangeIsRefusedAtOnce) {
  open_device(make_config(Mode::kPlacement, 2));
  AlignedBuffer buf(4096);
  iovec iov{buf.data, 4096};
  EXPECT_EQ(device_->read(&buf, &iov, 1, kLunBytes - 2048, 4096), IoStatus::kRange);
}

TEST_P(SwitchDeviceTest, MultipathFailsOverAndTheProberBringsThePathBack) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  // "Same storage": every path holds the same bytes.
  AlignedBuffer data(kRegionBytes);
  fill_pattern(data.bytes(), kRegionBytes, 3);
  for (int p = 0; p < 3; p++) {
    int fd = ::open(path_file(p).c_str(), O_WRONLY);
    ASSERT_EQ(pwrite(fd, data.data, kRegionBytes, static_cast<off_t>(kRegionBytes)), static_cast<ssize_t>(kRegionBytes));
    ::close(fd);
  }
  open_device(c);
  // Path 1 (which owns region 1) loses its storage: reads past EOF fail.
  ASSERT_EQ(truncate(path_file(1).c_str(), 0), 0);
  AlignedBuffer back(kRegionBytes);
  ASSERT_EQ(read(back, kRegionBytes, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), kRegionBytes), 0);
  DeviceReport r = device_->report();
  EXPECT_EQ(r.paths[1].state, PathState::kFailed);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kFailovers], 1u);
  EXPECT_EQ(r.paths[2].stats[PathCounter::kReads], 1u);
  EXPECT_TRUE(reporter_.saw("path 1 (p1, " + path_file(1) + ") is now failed"));

  // While it is down, region 1 routes elsewhere without an error first.
  ASSERT_EQ(read(back, kRegionBytes, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(device_->report().paths[1].stats[PathCounter::kErrors], 1u);

  ASSERT_EQ(truncate(path_file(1).c_str(), static_cast<off_t>(kLunBytes)), 0);
  for (int i = 0; i < 200 && device_->report().paths[1].state != PathState::kHealthy; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(device_->report().paths[1].state, PathState::kHealthy);
}

TEST_P(SwitchDeviceTest, PlacementNeverReadsAnotherPathsData) {
  open_device(make_config(Mode::kPlacement, 3));
  ASSERT_EQ(truncate(path_file(1).c_str(), 0), 0);
  AlignedBuffer back(kRegionBytes);
  EXPECT_EQ(read(back, kRegionBytes, kRegionBytes), IoStatus::kReadError);
  EXPECT_EQ(read(back, 0, kRegionBytes), IoStatus::kOk);  // region 0 lives on path 0
  DeviceReport r = device_->report();
  EXPECT_EQ(r.paths[0].stats[PathCounter::kReads], 1u);
  EXPECT_EQ(r.paths[2].stats[PathCounter::kReads], 0u);
}

// GET LBA STATUS asks the path the table names: round robin puts regions 0-3
// on paths 0, 1, 2, 0 over sparse files, and only region 0 is written.
TEST_P(SwitchDeviceTest, ExtentStatusAsksThePathTheTableNames) {
  open_device(make_config(Mode::kPlacement, 3));
  AlignedBuffer data(kRegionBytes);
  fill_pattern(data.bytes(), kRegionBytes, 31);
  ASSERT_EQ(write(data, 0, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(device_->extent_status(0, 4 * kRegionBytes), (ExtentStatus{kRegionBytes, true}));
  EXPECT_EQ(device_->extent_status(4096, kRegionBytes), (ExtentStatus{kRegionBytes - 4096, true}));
  EXPECT_EQ(device_->extent_status(kRegionBytes, 3 * kRegionBytes), (ExtentStatus{3 * kRegionBytes, false}));
  // Region 1's bytes put on path 0 behind the device's back: invisible until
  // the table sends region 1 there.
  const int fd = ::open(path_file(0).c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, data.data, kRegionBytes, kRegionBytes), static_cast<ssize_t>(kRegionBytes));
  ::close(fd);
  EXPECT_FALSE(device_->extent_status(kRegionBytes, kRegionBytes).mapped);
  ASSERT_TRUE(device_->apply_mappings("1:0").ok());
  EXPECT_EQ(device_->extent_status(0, 4 * kRegionBytes), (ExtentStatus{2 * kRegionBytes, true}));
  EXPECT_EQ(device_->extent_status(2 * kRegionBytes, 2 * kRegionBytes), (ExtentStatus{2 * kRegionBytes, false}));
}

// tcmu-runner's emulated WRITE AND VERIFY, COMPARE AND WRITE and WRITE SAME
// hand the handler calloc'd buffers; O_DIRECT refuses them with EINVAL, which
// used to fail the command (and, in multipath mode, every path in turn).
TEST_P(SwitchDeviceTest, UnalignedBuffersGoThroughThePageCacheNotAnError) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);  // one file: any route reads it back
  open_device(c);
  if (!device_->report().paths[0].direct) GTEST_SKIP() << "SKIPPED: no scratch directory takes O_DIRECT (see the WARNING above)";
  AlignedBuffer out(kRegionBytes + 4096), in(kRegionBytes + 4096);
  for (size_t i = 0; i < out.size; i++) out.bytes()[i] = static_cast<char>(i * 7 + 1);
  iovec wiov{out.bytes() + 8, kRegionBytes};  // 8-byte aligned, as malloc gives
  ASSERT_EQ(device_->write(&out, &wiov, 1, 4096, kRegionBytes, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&out), IoStatus::kOk);
  iovec riov{in.bytes() + 8, kRegionBytes};
  ASSERT_EQ(device_->read(&in, &riov, 1, 4096, kRegionBytes), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&in), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(in.bytes() + 8, out.bytes() + 8, kRegionBytes), 0);
  const DeviceReport r = device_->report();
  uint64_t bounced = 0;
  for (const auto& p : r.paths) {
    EXPECT_EQ(p.state, PathState::kHealthy);
    EXPECT_EQ(p.stats[PathCounter::kErrors], 0u);
    bounced += p.stats[PathCounter::kBounced];
  }
  EXPECT_GT(bounced, 0u);
}

TEST_P(SwitchDeviceTest, DisabledPlacementPathFailsItsRegionsWithoutIo) {
  open_device(make_config(Mode::kPlacement, 3));
  ASSERT_TRUE(device_->set_path_state(2, PathState::kDisabled).ok());
  AlignedBuffer buf(4096);
  EXPECT_EQ(write(buf, 2 * kRegionBytes, 4096), IoStatus::kWriteError);
  EXPECT_EQ(device_->report().paths[2].stats[PathCounter::kWrites], 0u);
  EXPECT_FALSE(device_->set_path_state(3, PathState::kHealthy).ok());
}

// A uevent fails a placement path at once (path_uevents.h): its regions then
// fail fast instead of waiting for the gone device, until the prober finds
// it answering again (the file here does, so a long interval keeps it failed).
TEST_P(SwitchDeviceTest, FailedPlacementPathFailsItsRegionsWithoutIo) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  c.probe_interval_ms = kMaxProbeIntervalMs;
  open_device(c);
  ASSERT_TRUE(device_->set_path_state(2, PathState::kFailed).ok());
  AlignedBuffer buf(4096);
  EXPECT_EQ(write(buf, 2 * kRegionBytes, 4096), IoStatus::kWriteError);
  EXPECT_EQ(write(buf, 1 * kRegionBytes, 4096), IoStatus::kOk) << "the other paths' regions are served";
  EXPECT_EQ(device_->report().paths[2].stats[PathCounter::kWrites], 0u);
}

TEST_P(SwitchDeviceTest, ReloadSwapsTheDefaultMappingAndRefusesStructuralChanges) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  open_device(c);
  const uint64_t gen = device_->report().generation;
  DeviceConfig next = c;
  next.default_mapping = DefaultMapping::fixed(2);
  ASSERT_TRUE(device_->reload(next).ok());
  EXPECT_EQ(device_->report().generation, gen + 1);
  EXPECT_EQ(device_->snapshot()->path_nr(0), 2u);

  DeviceConfig bad = next;
  bad.paths.pop_back();
  bad.default_mapping = DefaultMapping::fixed(0);
  Status s = device_->reload(bad);
  EXPECT_NE(s.message().find("the path list differs"), std::string::npos) << s.message();
  EXPECT_EQ(device_->report().generation, gen + 1);
  EXPECT_EQ(device_->snapshot()->path_nr(0), 2u);
}

TEST_P(SwitchDeviceTest, ApplyMappingsPublishesAllOrNothing) {
  open_device(make_config(Mode::kPlacement, 3));
  const uint64_t gen = device_->report().generation;
  auto applied = device_->apply_mappings("0:2 1:2");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(applied.value(), gen + 1);
  EXPECT_EQ(device_->snapshot()->path_nr(1), 2u);

  auto refused = device_->apply_mappings("2:1 3:7");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("3:7"), std::string::npos) << refused.status().message();
  EXPECT_EQ(device_->report().generation, gen + 1);
  EXPECT_EQ(device_->snapshot()->path_nr(2), 2u);  // round-robin, untouched by the refused "2:1"
}

TEST_P(SwitchDeviceTest, ResizeKeepsALiveTableChange) {
  const DeviceConfig c = make_config(Mode::kPlacement, 3);
  for (int p = 0; p < 3; p++) ASSERT_EQ(truncate(path_file(p).c_str(), 2 * kLunBytes), 0);  // room to grow
  open_device(c);
  // Region 1 moves from path 1 (round robin) to path 2, as a D-Bus edit does.
  auto live = RegionTable::create({3, kRegionSectors, kLunBytes / kRegionBytes, DefaultMapping::round_robin()});
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE(live.value()->set(1, 2).ok());
  ASSERT_TRUE(device_->publish_table(std::move(live).value()).ok());
  const Status grown = device_->resize(2 * kLunBytes);
  ASSERT_TRUE(grown.ok()) << grown.message();

  AlignedBuffer data(kRegionBytes);
  fill_pattern(data.bytes(), kRegionBytes, 9);
  ASSERT_EQ(write(data, kRegionBytes, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(file_bytes(2, kRegionBytes, kRegionBytes).data(), data.bytes(), kRegionBytes), 0)
      << "the resize lost the live mapping of region 1";
  // A region the grown LUN adds follows the default mapping.
  const uint64_t added = kLunBytes / kRegionBytes + 1;
  ASSERT_EQ(write(data, added * kRegionBytes, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(file_bytes(static_cast<int>(added % 3), added * kRegionBytes, kRegionBytes).data(),
                        data.bytes(), kRegionBytes),
            0);
}

// persist = true: a live change is in the table file before it is published;
// one that cannot be written is refused and changes nothing.
TEST_P(SwitchDeviceTest, PersistWritesALiveChangeToTheTableFileFirst) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  c.table_path = (dir_ / "lun.table").string();
  std::ofstream(c.table_path) << "# written by the admin\n0:2\n";
  c.persist = true;
  open_device(c);
  const TableGeometry geometry = c.geometry(kLunBytes);
  auto generation = device_->apply_mappings("1:2 3:0");
  ASSERT_TRUE(generation.ok()) << generation.status().message();
  auto on_disk = load_table_file(c.table_path, geometry);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status().message();
  EXPECT_TRUE(on_disk.value()->same_mapping(*device_->snapshot()));
  EXPECT_EQ(on_disk.value()->path_nr(1), 2u);

  fs::remove(c.table_path);
  fs::create_directory(c.table_path);  // rename() onto a directory fails
  auto refused = device_->apply_mappings("1:0");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("table not changed: " + c.table_path), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(device_->snapshot()->path_nr(1), 2u);
  EXPECT_EQ(device_->report().generation, generation.value());
}

TEST_P(SwitchDeviceTest, WithoutPersistTheTableFileIsLeftAlone) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  c.table_path = (dir_ / "lun.table").string();
  const std::string admins = "# written by the admin\n0:2\n";
  std::ofstream(c.table_path) << admins;
  open_device(c);
  ASSERT_TRUE(device_->apply_mappings("1:2").ok());
  EXPECT_EQ(read_file_bytes(c.table_path).value(), admins);
}

TEST_P(SwitchDeviceTest, OpenRefusesAQueueDepthOfZero) {
  auto d = SwitchDevice::open(make_config(Mode::kPlacement, 3), {kLunBytes, 1 << 20, 0}, sink_, reporter_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "queue depth (hw_queue_depth) is 0");
}

// Pools sized from the limits, not a constant: queue depth 4 gives 8 command
// contexts, and the 9th command in flight is refused BUSY at once.
TEST_P(SwitchDeviceTest, TheCommandPoolHoldsTwoContextsPerQueueSlot) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  auto d = SwitchDevice::open(c, {kLunBytes, 1 << 20, 4}, sink_, reporter_);
  ASSERT_TRUE(d.ok()) << d.status().message();
  device_ = std::move(d).value();
  EXPECT_TRUE(reporter_.saw("pools of 8 commands and ")) << "queue depth 4";
  // Hold 8 ranges: each takes a command context and keeps it.
  RangeHold holds[9];
  for (int i = 0; i < 8; i++) ASSERT_TRUE(device_->hold_range(i * kRegionBytes, kRegionBytes, holds[i])) << i;
  EXPECT_FALSE(device_->hold_range(8 * kRegionBytes, kRegionBytes, holds[8]));
  AlignedBuffer buf(4096);
  iovec iov{buf.data, 4096};
  EXPECT_EQ(device_->read(&buf, &iov, 1, 0, 4096), IoStatus::kBusy);
  for (int i = 0; i < 8; i++) device_->release_hold(holds[i]);
  EXPECT_EQ(read(buf, 0, 4096), IoStatus::kOk);
}

TEST_P(SwitchDeviceTest, OpenRefusesAPathTooSmallForTheLun) {
  DeviceConfig c = make_config(Mode::kPlacement, 2);
  ASSERT_EQ(truncate(path_file(1).c_str(), 1024), 0);
  auto d = SwitchDevice::open(c, {kLunBytes, 1 << 20, 32}, sink_, reporter_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("path 1 (" + path_file(1) + ") holds 1024 bytes"), std::string::npos);
}

// ---- ordering and deadlines (issue #20) ------------------------------------------

// Back-to-back writes of one block, each with its own data, on an engine with
// several lanes: whatever the lanes do, the last one sent is what stays. A
// thread's commands keep to one lane, so each write is sent from a thread of
// its own (one after another), and they go down different lanes.
TEST_P(SwitchDeviceTest, OverlappingWritesLandInArrivalOrder) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  c.nr_workers = 4;
  open_device(c, kRegionBytes);
  constexpr int kWrites = 48;
  // The first write is 16 windows long and ends on the hot block.
  const uint64_t big_len = 16 * kRegionBytes, block = big_len - 4096;
  AlignedBuffer big(big_len);
  fill_pattern(big.bytes(), big_len, 100);
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  std::vector<iovec> iovs(kWrites + 1);
  iovs[0] = {big.data, big_len};
  ASSERT_EQ(device_->write(&big, &iovs[0], 1, 0, big_len, false), IoStatus::kOk);
  for (int i = 1; i <= kWrites; i++) {
    bufs.push_back(std::make_unique<AlignedBuffer>(4096));
    std::memset(bufs.back()->data, i, 4096);
    iovs[i] = {bufs.back()->data, 4096};
    IoStatus sent = IoStatus::kHardwareError;
    std::thread([&] { sent = device_->write(bufs.back().get(), &iovs[i], 1, block, 4096, false); }).join();
    ASSERT_EQ(sent, IoStatus::kOk);
  }
  EXPECT_EQ(sink_.wait(&big), IoStatus::kOk);
  for (auto& b : bufs) EXPECT_EQ(sink_.wait(b.get()), IoStatus::kOk);
  const int owner = static_cast<int>((block / kRegionBytes) % 3);
  const std::vector<char> got = file_bytes(owner, block, 4096);
  EXPECT_EQ(std::count(got.begin(), got.end(), static_cast<char>(kWrites)), 4096) << "an earlier write landed last";
  EXPECT_EQ(std::memcmp(file_bytes(0, 0, 4096).data(), big.bytes(), 4096), 0);
}

// COMPARE AND WRITE's hold: taken after the overlapping write in flight is
// done (that write's data is what the holder reads), and an overlapping write
// sent meanwhile waits until the hold is let go, while the holder's own write
// inside it goes through at once.
TEST_P(SwitchDeviceTest, ARangeHoldKeepsOverlappingWritesOutUntilReleased) {
  open_device(make_config(Mode::kPlacement, 3), kRegionBytes);
  const uint64_t len = 16 * kRegionBytes;
  AlignedBuffer before(len), racer(4096), own(4096);
  fill_pattern(before.bytes(), len, 4);
  std::memset(racer.data, 0x22, 4096);
  std::memset(own.data, 0x33, 4096);
  iovec iov_before{before.data, len}, iov_racer{racer.data, 4096}, iov_own{own.data, 4096};
  ASSERT_EQ(device_->write(&before, &iov_before, 1, 0, len, false), IoStatus::kOk);
  RangeHold hold;
  ASSERT_TRUE(device_->hold_range(len - 4096, 4096, hold));
  EXPECT_EQ(sink_.wait(&before), IoStatus::kOk);  // done before the hold was granted
  ASSERT_EQ(device_->write(&own, &iov_own, 1, len - 4096, 4096, false, {}, BufferKind::kCopied, &hold), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&own), IoStatus::kOk);
  ASSERT_EQ(device_->write(&racer, &iov_racer, 1, len - 4096, 4096, false), IoStatus::kOk);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // time enough to land, were it let through
  const int owner = static_cast<int>(((len - 4096) / kRegionBytes) % 3);
  EXPECT_EQ(file_bytes(owner, len - 4096, 1)[0], 0x33) << "the racing write ran inside the hold";
  device_->release_hold(hold);
  EXPECT_EQ(sink_.wait(&racer), IoStatus::kOk);
  EXPECT_EQ(file_bytes(owner, len - 4096, 1)[0], 0x22);
}

// Held by the runner past its deadline: nothing of it reaches a path, it
// fails, and the log names its range and how long it ran.
TEST_P(SwitchDeviceTest, ACommandPastItsDeadlineIssuesNothing) {
  open_device(make_config(Mode::kPlacement, 3), kRegionBytes);
  AlignedBuffer data(4 * kRegionBytes);
  std::memset(data.data, 0x5a, data.size);
  iovec iov{data.data, data.size};
  ASSERT_EQ(device_->write(&data, &iov, 1, kRegionBytes, data.size, false, Deadline::at(1)), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&data), IoStatus::kWriteError);
  for (int p = 0; p < 3; p++) {
    const std::vector<char> got = file_bytes(p, 0, kLunBytes);
    EXPECT_EQ(std::count(got.begin(), got.end(), 0), static_cast<long>(kLunBytes)) << "path " << p;
  }
  EXPECT_TRUE(reporter_.saw("WRITE of LBA 128 + 512 blocks out of time: ran "));
  int token = 0;
  ASSERT_EQ(device_->unmap(&token, 0, kRegionBytes, true, Deadline::at(1)), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&token), IoStatus::kWriteError);
  EXPECT_TRUE(reporter_.saw("UNMAP of LBA 0 + 128 blocks out of time"));
}

// A write that waited for an overlapping one and ran out of time meanwhile
// is failed when its turn comes, without landing; the one it waited for
// completes whole.
TEST_P(SwitchDeviceTest, AWriteThatTimedOutWaitingNeverLands) {
  open_device(make_config(Mode::kPlacement, 3), kRegionBytes);
  const uint64_t len = 16 * kRegionBytes;
  AlignedBuffer first(len), late(4096);
  fill_pattern(first.bytes(), len, 3);
  std::memset(late.data, 0x77, 4096);
  iovec iov_first{first.data, len}, iov_late{late.data, 4096};
  ASSERT_EQ(device_->write(&first, &iov_first, 1, 0, len, false), IoStatus::kOk);
  ASSERT_EQ(device_->write(&late, &iov_late, 1, 0, 4096, false, Deadline::at(1)), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&first), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&late), IoStatus::kWriteError);
  EXPECT_EQ(std::memcmp(file_bytes(0, 0, 4096).data(), first.bytes(), 4096), 0);
  // Every range is free again: a new write of the same block goes through.
  AlignedBuffer again(4096);
  std::memset(again.data, 0x11, 4096);
  ASSERT_EQ(write(again, 0, 4096), IoStatus::kOk);
  EXPECT_EQ(file_bytes(0, 0, 1)[0], 0x11);
}

// Buffers as the plugin hands them over (BufferKind): a readable part and,
// past it, 256 KiB unreadable (a zero-copy slot whose pages are gone: no way
// to copy from it, buffered or not). Buffers sit 8 bytes past a page
// boundary, so O_DIRECT refuses them (EINVAL) as it refuses a no-GUP slot
// (EEXIST): what goes O_DIRECT and what goes through the page cache shows in
// the counters.
struct UnalignedBuffers {
  static constexpr size_t kBytes = 1 << 20, kUnreadable = 768 << 10;
  UnalignedBuffers() {
    base = static_cast<unsigned char*>(mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base, MAP_FAILED);
    EXPECT_EQ(mprotect(base + kUnreadable, kBytes - kUnreadable, PROT_NONE), 0);
  }
  ~UnalignedBuffers() { munmap(base, kBytes); }
  unsigned char* readable() { return base + 8; }
  unsigned char* unreadable() { return base + kUnreadable + 8; }
  unsigned char* base = nullptr;
};

uint64_t sum_paths(const DeviceReport& r, PathCounter counter) {
  uint64_t n = 0;
  for (const auto& p : r.paths) n += p.stats[counter];
  return n;
}

TEST_P(SwitchDeviceTest, NoGupBuffersGoThroughThePageCacheAndNeverODirect) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);  // one file: any route reads it back
  open_device(c);
  ASSERT_TRUE(device_->report().paths[0].direct) << "the test needs a temp dir that takes O_DIRECT";
  UnalignedBuffers map;
  const uint64_t len = 2 * kRegionBytes;  // two pieces
  fill_pattern(map.readable(), len, 11);
  std::vector<unsigned char> expected(map.readable(), map.readable() + len);
  int tag = 0;
  iovec iov{map.readable(), len};
  ASSERT_EQ(device_->write(&tag, &iov, 1, kRegionBytes, len, false, {}, BufferKind::kMappedNoGup), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  std::memset(map.readable(), 0, len);
  ASSERT_EQ(device_->read(&tag, &iov, 1, kRegionBytes, len, {}, BufferKind::kMappedNoGup), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(map.readable(), expected.data(), len), 0);

  const DeviceReport r = device_->report();
  EXPECT_EQ(r.page_cache_pieces, 4u);
  EXPECT_EQ(sum_paths(r, PathCounter::kBounced), 0u) << "a no-GUP buffer was tried O_DIRECT first";
  EXPECT_EQ(r.mapped_direct_refused, 0u);
  EXPECT_EQ(sum_paths(r, PathCounter::kErrors), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
}

TEST_P(SwitchDeviceTest, RefcountedWindowBuffersGoODirectAndARefusalIsCounted) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);
  open_device(c);
  ASSERT_TRUE(device_->report().paths[0].direct) << "the test needs a temp dir that takes O_DIRECT";
  UnalignedBuffers map;
  fill_pattern(map.readable(), kRegionBytes, 12);
  int tag = 0;
  iovec iov{map.readable(), kRegionBytes};
  ASSERT_EQ(device_->write(&tag, &iov, 1, 0, kRegionBytes, false, {}, BufferKind::kMapped), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  // The same refusal for the runner's own buffer is a bounce, not a mapped refusal.
  ASSERT_EQ(device_->write(&tag, &iov, 1, 0, kRegionBytes, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.page_cache_pieces, 0u);
  EXPECT_EQ(r.mapped_direct_refused, 1u);  // tried O_DIRECT (refused: unaligned), then the page cache
  EXPECT_EQ(sum_paths(r, PathCounter::kBounced), 2u);
  EXPECT_EQ(sum_paths(r, PathCounter::kErrors), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
}

// A buffer nothing can read fails its command; in multipath mode blaming the
// path would fail every path over in turn.
TEST_P(SwitchDeviceTest, AnUnusableBufferFailsTheCommandAndNoPath) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  open_device(c);
  UnalignedBuffers map;
  int tag = 0;
  iovec iov{map.unreadable(), kRegionBytes};
  ASSERT_EQ(device_->write(&tag, &iov, 1, 0, kRegionBytes, false, {}, BufferKind::kMapped), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&tag), IoStatus::kWriteError);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.buffer_faults, 1u);
  EXPECT_EQ(sum_paths(r, PathCounter::kErrors), 0u);
  EXPECT_EQ(sum_paths(r, PathCounter::kFailovers), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
  // The device still serves good buffers.
  AlignedBuffer ok(kRegionBytes);
  EXPECT_EQ(write(ok, 0, kRegionBytes), IoStatus::kOk);
}

// Every region of the LUN on one path: dm-switch set_region_mappings text.
std::string all_regions_on(int path_nr) {
  return "0:" + std::to_string(path_nr) + " R1," + [] {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(kLunBytes / kRegionBytes - 1));
    return std::string(hex);
  }();
}

// A 256 KiB command over four 64 KiB regions that all live on one path is one
// I/O on it, its iovecs joined back where the region split cut one; the data
// and the per-region histogram are as before.
TEST_P(SwitchDeviceTest, AdjacentRegionsOnOnePathGoOutAsOneIo) {
  open_device(make_config(Mode::kPlacement, 3));
  ASSERT_TRUE(device_->apply_mappings(all_regions_on(1)).ok());
  const uint64_t len = 4 * kRegionBytes;
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 21);
  // 24 KiB iovecs: most region boundaries cut one in two.
  constexpr uint64_t kIov = 24 << 10;
  std::vector<iovec> iovs;
  for (uint64_t o = 0; o < len; o += kIov) iovs.push_back({data.bytes() + o, std::min(kIov, len - o)});
  int tag = 0;
  ASSERT_EQ(device_->write(&tag, iovs.data(), iovs.size(), 0, len, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  EXPECT_EQ(file_bytes(1, 0, len), std::vector<char>(data.bytes(), data.bytes() + len));
  EXPECT_EQ(file_bytes(0, 0, len), std::vector<char>(len, 0));
  AlignedBuffer back(len);
  ASSERT_EQ(read(back, 0, len), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), len), 0);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.paths[1].stats[PathCounter::kWrites], 1u);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kReads], 1u);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kBytesWritten], len);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kBytesRead], len);
  EXPECT_EQ(sum_paths(r, PathCounter::kWrites) + sum_paths(r, PathCounter::kReads), 2u);
  const RegionHistogram h = device_->region_histogram();
  for (int region = 0; region < 4; region++) EXPECT_EQ(h.ios[region], 2u) << "region " << region;
  EXPECT_EQ(h.ios[4], 0u);
}

// Round robin: regions 0..3 on paths 0, 1, 2, 0. Region 3 is on region 0's
// path but not next to it: four I/Os.
TEST_P(SwitchDeviceTest, PiecesOnAlternatingPathsAreNotMerged) {
  open_device(make_config(Mode::kPlacement, 3));
  const uint64_t len = 4 * kRegionBytes;
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 22);
  ASSERT_EQ(write(data, 0, len), IoStatus::kOk);
  expect_placed(0, data.bytes(), len);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.paths[0].stats[PathCounter::kWrites], 2u);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kWrites], 1u);
  EXPECT_EQ(r.paths[2].stats[PathCounter::kWrites], 1u);
}

// In multipath mode a merged I/O that fails on its path is retried whole on
// the next one: one error, one failover, one read there, the data exact.
TEST_P(SwitchDeviceTest, AMergedIoFailsOverAsAWhole) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  const uint64_t len = 4 * kRegionBytes;
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 23);
  for (int p = 0; p < 3; p++) {  // same storage: every path holds the same bytes
    int fd = ::open(path_file(p).c_str(), O_WRONLY);
    ASSERT_EQ(pwrite(fd, data.data, len, 0), static_cast<ssize_t>(len));
    ::close(fd);
  }
  open_device(c);
  ASSERT_TRUE(device_->apply_mappings(all_regions_on(1)).ok());
  ASSERT_EQ(truncate(path_file(1).c_str(), 0), 0);
  AlignedBuffer back(len);
  ASSERT_EQ(read(back, 0, len), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), len), 0);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.paths[1].stats[PathCounter::kErrors], 1u);
  EXPECT_EQ(r.paths[1].stats[PathCounter::kFailovers], 1u);
  EXPECT_EQ(r.paths[2].stats[PathCounter::kReads], 1u);
  EXPECT_EQ(r.paths[2].stats[PathCounter::kBytesRead], len);
  EXPECT_EQ(r.paths[0].stats[PathCounter::kReads], 0u);
}

// One completion and at most one worker wake-up per command: 256 KiB
// commands, one at a time, over four 64 KiB regions all on one path (merged
// into one I/O; before merging, four). The sink hears each command once, on
// its last piece; the worker thread (on io_uring: the files complete O_DIRECT
// writes later, from the block layer) wakes to work at most once per command.
// Idle wake-ups (a completion the submitting thread reaped first, or the
// first piece telling the io_uring worker to count the rest) are not work.
// Round-robin regions make four I/Os on three paths: the worker waits for
// the last of them (io_engine_test has pieces that finish far apart).
TEST_P(SwitchDeviceTest, ACommandCompletesOnceAndWakesTheWorkerAtMostOnce) {
  open_device(make_config(Mode::kPlacement, 3));
  ASSERT_TRUE(device_->report().paths[0].direct) << "the test needs a temp dir that takes O_DIRECT";
  constexpr int kCommands = 64;
  const uint64_t len = 4 * kRegionBytes;
  AlignedBuffer data(len);
  fill_pattern(data.bytes(), len, 24);
  struct Counts {
    uint64_t ios, wakeups, idle;
  };
  auto run = [&](const char* what) {
    const DeviceReport before = device_->report();
    for (int i = 0; i < kCommands; i++) EXPECT_EQ(write(data, (i % 8) * len, len), IoStatus::kOk);
    const DeviceReport after = device_->report();
    EXPECT_EQ(after.commands_done - before.commands_done, static_cast<uint64_t>(kCommands));
    const Counts c{sum_paths(after, PathCounter::kWrites) - sum_paths(before, PathCounter::kWrites),
                   after.worker_wakeups - before.worker_wakeups,
                   after.idle_worker_wakeups - before.idle_worker_wakeups};
    std::printf("%s: %d commands, %llu I/Os, %llu worker wake-ups (%llu idle)\n", what, kCommands,
                static_cast<unsigned long long>(c.ios), static_cast<unsigned long long>(c.wakeups),
                static_cast<unsigned long long>(c.idle));
    return c;
  };
  ASSERT_TRUE(device_->apply_mappings(all_regions_on(2)).ok());
  const Counts merged = run("one path");
  EXPECT_EQ(merged.ios, static_cast<uint64_t>(kCommands));
  EXPECT_LE(merged.wakeups - merged.idle, static_cast<uint64_t>(kCommands)) << "more than one wake-up per command";
  ASSERT_TRUE(device_->apply_mappings("0:0 1:1 2:2 3:0 4:1 5:2 6:0 7:1 8:2 9:0 a:1 b:2 c:0 d:1 e:2 f:0 "
                                      "10:1 11:2 12:0 13:1 14:2 15:0 16:1 17:2 18:0 19:1 1a:2 1b:0 1c:1 1d:2 1e:0 1f:1")
                  .ok());
  const Counts split = run("round robin");
  EXPECT_EQ(split.ios, 4u * kCommands);
  // + 1: a wake-up is counted after the work it did, so the one of the
  // command before the run may fall into it.
  EXPECT_LE(split.wakeups - split.idle, static_cast<uint64_t>(kCommands) + 1) << "more than one wake-up per command";
  EXPECT_EQ(sink_.duplicates(), 0);
}

// Sixteen LUNs in one process, as on one tcmu-runner: one engine of
// `workers` threads and one probing thread for all of them, each LUN's
// writes on its own path, and the threads gone with the last LUN.
TEST_P(SwitchDeviceTest, SixteenLunsShareOneEngineAndOneProbingThread) {
  constexpr int kLuns = 16;
  ASSERT_EQ(test_support::threads_named("switch-"), 0) << "a device of an earlier test still runs";
  std::vector<std::unique_ptr<SwitchDevice>> luns;
  for (int k = 0; k < kLuns; k++) {
    DeviceConfig c = make_config(Mode::kPlacement, 0);
    const std::string f = (dir_ / ("lun" + std::to_string(k))).string();
    const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
    ASSERT_EQ(ftruncate(fd, kLunBytes), 0);
    ::close(fd);
    c.paths.push_back({f, 0, "only"});
    auto d = SwitchDevice::open(c, {kLunBytes, 1 << 20, 32}, sink_, reporter_);
    ASSERT_TRUE(d.ok()) << d.status().message();
    luns.push_back(std::move(d).value());
  }
  EXPECT_EQ(test_support::threads_named("switch-io"), 2) << "the default 2 workers, for all 16 LUNs";
  EXPECT_EQ(test_support::threads_named("switch-probe"), 1);
  EXPECT_EQ(luns.back()->report().engine_luns, static_cast<uint32_t>(kLuns));
  EXPECT_EQ(reporter_.count("sharing the running"), kLuns - 1);
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  for (int k = 0; k < kLuns; k++) {
    bufs.push_back(std::make_unique<AlignedBuffer>(kRegionBytes));
    std::memset(bufs.back()->data, 'A' + k, kRegionBytes);
    iovec iov{bufs.back()->data, kRegionBytes};
    ASSERT_EQ(luns[k]->write(bufs.back().get(), &iov, 1, 0, kRegionBytes, false), IoStatus::kOk);
  }
  for (int k = 0; k < kLuns; k++) {
    EXPECT_EQ(sink_.wait(bufs[k].get()), IoStatus::kOk);
    std::vector<char> got(kRegionBytes);
    const int fd = ::open((dir_ / ("lun" + std::to_string(k))).c_str(), O_RDONLY);
    ASSERT_EQ(pread(fd, got.data(), kRegionBytes, 0), static_cast<ssize_t>(kRegionBytes));
    ::close(fd);
    EXPECT_EQ(std::count(got.begin(), got.end(), static_cast<char>('A' + k)), static_cast<long>(kRegionBytes))
        << "LUN " << k << "'s write is not all on its own path";
  }
  luns.clear();
  EXPECT_EQ(test_support::threads_named("switch-"), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, SwitchDeviceTest, ::testing::Values(EngineKind::kIoUring, EngineKind::kSync),
                         [](const ::testing::TestParamInfo<EngineKind>& p) {
                           return std::string(p.param == EngineKind::kIoUring ? "IoUring" : "Sync");
                         });

}  // namespace
}  // namespace tcmu_switch
