// SwitchDevice end to end on the host: real files as paths, both engines.
#include "switch_device.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace tcmu_switch {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kLunBytes = 4 << 20;
constexpr uint64_t kRegionSectors = 128;  // 64 KiB
constexpr uint64_t kRegionBytes = kRegionSectors * kSectorBytes;

class CollectingReporter : public Reporter {
 public:
  void report(LogLevel, const std::string& message) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(message);
  }
  bool saw(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

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

struct AlignedBuffer {
  explicit AlignedBuffer(size_t n) : size(n) {
    EXPECT_EQ(posix_memalign(&data, 4096, n), 0);
    std::memset(data, 0, n);
  }
  ~AlignedBuffer() { std::free(data); }
  char* bytes() { return static_cast<char*>(data); }
  void* data = nullptr;
  size_t size;
};

class SwitchDeviceTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("switch_device_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
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
  void expect_placed(uint64_t off, const char* data, uint64_t len) {
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

void fill_pattern(char* p, uint64_t len, uint64_t seed) {
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
  EXPECT_EQ(device_->report().zc_copied, 2u);  // no zero-copy window attached
}

TEST_P(SwitchDeviceTest, EveryCommandCompletesExactlyOnceUnderLoad) {
  open_device(make_config(Mode::kPlacement, 3));
  std::mt19937_64 rng(7);
  constexpr int kCommands = 400;
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  std::vector<void*> users;
  for (int i = 0; i < kCommands; i++) {
    const uint64_t len = (1 + rng() % 64) * 4096;
    const uint64_t off = (rng() % ((kLunBytes - len) / 4096)) * 4096;
    bufs.push_back(std::make_unique<AlignedBuffer>(len));
    iovec iov{bufs.back()->data, len};
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
  for (const PathReport& p : device_->report().paths) EXPECT_EQ(p.stats.flushes, 1u) << p.config.name;
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
  EXPECT_EQ(device_->report().paths[1].stats.unmaps, 1u);
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
  EXPECT_EQ(r.paths[1].stats.failovers, 1u);
  EXPECT_EQ(r.paths[2].stats.reads, 1u);
  EXPECT_TRUE(reporter_.saw("path 1 (p1, " + path_file(1) + ") is now failed"));

  // While it is down, region 1 routes elsewhere without an error first.
  ASSERT_EQ(read(back, kRegionBytes, kRegionBytes), IoStatus::kOk);
  EXPECT_EQ(device_->report().paths[1].stats.errors, 1u);

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
  EXPECT_EQ(r.paths[0].stats.reads, 1u);
  EXPECT_EQ(r.paths[2].stats.reads, 0u);
}

// tcmu-runner's emulated WRITE AND VERIFY, COMPARE AND WRITE and WRITE SAME
// hand the handler calloc'd buffers; O_DIRECT refuses them with EINVAL, which
// used to fail the command (and, in multipath mode, every path in turn).
TEST_P(SwitchDeviceTest, UnalignedBuffersGoThroughThePageCacheNotAnError) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);  // one file: any route reads it back
  open_device(c);
  if (!device_->report().paths[0].direct) GTEST_SKIP() << "O_DIRECT refused by the temp dir's file system";
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
    EXPECT_EQ(p.stats.errors, 0u);
    bounced += p.stats.bounced;
  }
  EXPECT_GT(bounced, 0u);
}

TEST_P(SwitchDeviceTest, DisabledPlacementPathFailsItsRegionsWithoutIo) {
  open_device(make_config(Mode::kPlacement, 3));
  ASSERT_TRUE(device_->set_path_state(2, PathState::kDisabled).ok());
  AlignedBuffer buf(4096);
  EXPECT_EQ(write(buf, 2 * kRegionBytes, 4096), IoStatus::kWriteError);
  EXPECT_EQ(device_->report().paths[2].stats.writes, 0u);
  EXPECT_FALSE(device_->set_path_state(3, PathState::kHealthy).ok());
}

TEST_P(SwitchDeviceTest, ReloadSwapsTheDefaultMappingAndRefusesStructuralChanges) {
  DeviceConfig c = make_config(Mode::kPlacement, 3);
  open_device(c);
  const uint64_t gen = device_->report().generation;
  DeviceConfig next = c;
  next.default_mapping = DefaultMapping::fixed(2);
  ASSERT_TRUE(device_->reload(next).ok());
  EXPECT_EQ(device_->report().generation, gen + 1);
  EXPECT_EQ(device_->table_slot().clone_current()->path_nr(0), 2u);

  DeviceConfig bad = next;
  bad.paths.pop_back();
  bad.default_mapping = DefaultMapping::fixed(0);
  Status s = device_->reload(bad);
  EXPECT_NE(s.message().find("the path list differs"), std::string::npos) << s.message();
  EXPECT_EQ(device_->report().generation, gen + 1);
  EXPECT_EQ(device_->table_slot().clone_current()->path_nr(0), 2u);
}

TEST_P(SwitchDeviceTest, OpenRefusesAPathTooSmallForTheLun) {
  DeviceConfig c = make_config(Mode::kPlacement, 2);
  ASSERT_EQ(truncate(path_file(1).c_str(), 1024), 0);
  auto d = SwitchDevice::open(c, {kLunBytes, 1 << 20, 32}, sink_, reporter_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("path 1 (" + path_file(1) + ") holds 1024 bytes"), std::string::npos);
}

// A UIO map as a kmod-patches kernel offers it: the mailbox at the start, a
// zero-copy window [256 KiB, 1 MiB) whose no-GUP part starts at 512 KiB, and
// the last 256 KiB unreadable (a slot whose pages are gone: no way to copy
// from it, buffered or not). Buffers sit 8 bytes past a page boundary, so
// O_DIRECT refuses them (EINVAL) as it refuses a no-GUP slot (EEXIST): what
// goes O_DIRECT and what goes through the page cache shows in the counters.
struct FakeZeroCopyMap {
  static constexpr size_t kBytes = 1 << 20, kWindow = 256 << 10, kNoGup = 512 << 10, kUnreadable = 768 << 10;
  FakeZeroCopyMap() {
    base = static_cast<char*>(mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base, MAP_FAILED);
    put<uint16_t>(zc_mailbox::kFlagsOffset, zc_mailbox::kCapZeroCopy);
    put<uint64_t>(zc_mailbox::kWindowOffset, kWindow);
    put<uint64_t>(zc_mailbox::kWindowSize, kBytes - kWindow);
    put<uint64_t>(zc_mailbox::kNoGupOffset, kNoGup);
    put<uint32_t>(zc_mailbox::kSlotSize, 128 << 10);
    put<uint32_t>(zc_mailbox::kZcFlags, 1);
    EXPECT_EQ(mprotect(base + kUnreadable, kBytes - kUnreadable, PROT_NONE), 0);
  }
  ~FakeZeroCopyMap() { munmap(base, kBytes); }
  template <typename T>
  void put(size_t off, T v) { std::memcpy(base + off, &v, sizeof(v)); }
  char* mapped() { return base + kWindow + 8; }
  char* nogup() { return base + kNoGup + 8; }
  char* unreadable() { return base + kUnreadable + 8; }
  char* base = nullptr;
};

uint64_t sum_paths(const DeviceReport& r, uint64_t PathStats::*counter) {
  uint64_t n = 0;
  for (const auto& p : r.paths) n += p.stats.*counter;
  return n;
}

TEST_P(SwitchDeviceTest, NoGupBuffersGoThroughThePageCacheAndNeverODirect) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);  // one file: any route reads it back
  open_device(c);
  ASSERT_TRUE(device_->report().paths[0].direct) << "the test needs a temp dir that takes O_DIRECT";
  FakeZeroCopyMap map;
  device_->attach_zero_copy(map.base, FakeZeroCopyMap::kBytes);
  const uint64_t len = 2 * kRegionBytes;  // two pieces
  fill_pattern(map.nogup(), len, 11);
  std::vector<char> expected(map.nogup(), map.nogup() + len);
  int tag = 0;
  iovec iov{map.nogup(), len};
  ASSERT_EQ(device_->write(&tag, &iov, 1, kRegionBytes, len, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  std::memset(map.nogup(), 0, len);
  ASSERT_EQ(device_->read(&tag, &iov, 1, kRegionBytes, len), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  EXPECT_EQ(std::memcmp(map.nogup(), expected.data(), len), 0);

  const DeviceReport r = device_->report();
  EXPECT_EQ(r.zc_mapped_nogup, 2u);
  EXPECT_EQ(r.zc_page_cache_pieces, 4u);
  EXPECT_EQ(sum_paths(r, &PathStats::bounced), 0u) << "a no-GUP buffer was tried O_DIRECT first";
  EXPECT_EQ(r.zc_direct_refused, 0u);
  EXPECT_EQ(sum_paths(r, &PathStats::errors), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
}

TEST_P(SwitchDeviceTest, RefcountedWindowBuffersGoODirectAndARefusalIsCounted) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  for (auto& p : c.paths) p.device = path_file(0);
  open_device(c);
  ASSERT_TRUE(device_->report().paths[0].direct) << "the test needs a temp dir that takes O_DIRECT";
  FakeZeroCopyMap map;
  device_->attach_zero_copy(map.base, FakeZeroCopyMap::kBytes);
  fill_pattern(map.mapped(), kRegionBytes, 12);
  int tag = 0;
  iovec iov{map.mapped(), kRegionBytes};
  ASSERT_EQ(device_->write(&tag, &iov, 1, 0, kRegionBytes, false), IoStatus::kOk);
  ASSERT_EQ(sink_.wait(&tag), IoStatus::kOk);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.zc_mapped, 1u);
  EXPECT_EQ(r.zc_page_cache_pieces, 0u);
  EXPECT_EQ(r.zc_direct_refused, 1u);  // tried O_DIRECT (refused: unaligned), then the page cache
  EXPECT_EQ(sum_paths(r, &PathStats::bounced), 1u);
  EXPECT_EQ(sum_paths(r, &PathStats::errors), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
}

// A buffer nothing can read fails its command; in multipath mode blaming the
// path would fail every path over in turn.
TEST_P(SwitchDeviceTest, AnUnusableBufferFailsTheCommandAndNoPath) {
  DeviceConfig c = make_config(Mode::kMultipath, 3);
  open_device(c);
  FakeZeroCopyMap map;
  device_->attach_zero_copy(map.base, FakeZeroCopyMap::kBytes);
  int tag = 0;
  iovec iov{map.unreadable(), kRegionBytes};
  ASSERT_EQ(device_->write(&tag, &iov, 1, 0, kRegionBytes, false), IoStatus::kOk);
  EXPECT_EQ(sink_.wait(&tag), IoStatus::kWriteError);
  const DeviceReport r = device_->report();
  EXPECT_EQ(r.buffer_faults, 1u);
  EXPECT_EQ(sum_paths(r, &PathStats::errors), 0u);
  EXPECT_EQ(sum_paths(r, &PathStats::failovers), 0u);
  for (const auto& p : r.paths) EXPECT_EQ(p.state, PathState::kHealthy);
  // The device still serves good buffers.
  AlignedBuffer ok(kRegionBytes);
  EXPECT_EQ(write(ok, 0, kRegionBytes), IoStatus::kOk);
}

INSTANTIATE_TEST_SUITE_P(Engines, SwitchDeviceTest, ::testing::Values(EngineKind::kIoUring, EngineKind::kSync),
                         [](const ::testing::TestParamInfo<EngineKind>& p) {
                           return std::string(p.param == EngineKind::kIoUring ? "IoUring" : "Sync");
                         });

}  // namespace
}  // namespace tcmu_switch
