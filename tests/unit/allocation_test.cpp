// The data path allocates nothing once the device is open: every malloc,
// calloc, realloc and operator new in this process is counted (this binary
// interposes glibc's allocator; it is not built under the sanitizers, which
// interpose it themselves), and a run of commands in steady state must add
// none, on both engines.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

#include "scratch_dir.h"
#include "switch_device.h"
#include "test_support.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* memalign(size_t align, size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
  *out = memalign(align, n);
  return *out != nullptr ? 0 : ENOMEM;
}
void free(void* p) { __libc_free(p); }
}  // extern "C"

// operator new goes through malloc in libstdc++; replacing it too makes the
// count independent of that.
void* operator new(size_t n) {
  void* p = malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }

namespace tcmu_switch {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kLunBytes = 4 << 20;
constexpr uint64_t kRegionSectors = 128;  // 64 KiB
constexpr uint64_t kRegionBytes = kRegionSectors * kSectorBytes;
constexpr uint64_t kMaxXferBytes = 256 << 10;

// Counts completions without allocating (no map, no string).
class CountingSink final : public CommandSink {
 public:
  void command_done(void* user, IoStatus status) noexcept override {
    if (status != IoStatus::kOk) {
      failed_.fetch_add(1);
      failed_ops_.fetch_or(1u << *static_cast<int*>(user));
      last_failure_.store(static_cast<int>(status));
    }
    done_.fetch_add(1);
    done_.notify_all();
  }
  void wait_for(uint64_t n) {
    for (uint64_t seen = done_.load(); seen < n; seen = done_.load()) done_.wait(seen);
  }
  std::atomic<uint64_t> done_{0}, failed_{0};
  std::atomic<uint32_t> failed_ops_{0};  // bit i: a command of run_round()'s kind i failed
  std::atomic<int> last_failure_{0};
};

class AllocationTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    dir_ = tcmu_switch::test_support::make_scratch_dir("allocation_test");
    DeviceConfig c;
    c.source = "test";
    c.region_sectors = kRegionSectors;
    c.mode = Mode::kPlacement;
    c.engine = GetParam();
    for (int i = 0; i < 3; i++) {
      const std::string f = (dir_ / ("path" + std::to_string(i))).string();
      const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
      ASSERT_EQ(ftruncate(fd, kLunBytes), 0);
      ::close(fd);
      c.paths.push_back({f, 0, "p" + std::to_string(i)});
    }
    auto d = SwitchDevice::open(c, {kLunBytes, kMaxXferBytes, 32}, sink_, reporter_);
    ASSERT_TRUE(d.ok()) << d.status().message();
    device_ = std::move(d).value();
  }
  void TearDown() override {
    device_.reset();
    fs::remove_all(dir_);
  }

  // One of each command kind, unaligned so that each splits at regions, and
  // one longer than the max transfer (several windows). Returns how many.
  uint64_t run_round(uint64_t round) {
    const uint64_t off = (round * 3 * kRegionBytes + kRegionBytes / 2) % (kLunBytes - kBigBytes);
    // The device reads a command's iovecs until it completes: members, not locals.
    small_ = {buf_.data, kRegionBytes};
    big_ = {buf_.data, kBigBytes};
    uint64_t sent = 0;
    auto check = [&](IoStatus s) {
      EXPECT_EQ(s, IoStatus::kOk);
      sent++;
    };
    check(device_->write(&kKinds[0], &small_, 1, off, kRegionBytes, round % 2 == 0));
    check(device_->read(&kKinds[1], &small_, 1, off, kRegionBytes));
    check(device_->write(&kKinds[2], &big_, 1, off, kBigBytes, false));
    check(device_->read(&kKinds[3], &big_, 1, off, kBigBytes));
    check(device_->unmap(&kKinds[4], off, kRegionBytes));
    check(device_->flush(&kKinds[5]));
    return sent;
  }

  static inline int kKinds[] = {0, 1, 2, 3, 4, 5};  // the sink's user pointers
  static constexpr uint64_t kBigBytes = 3 * kMaxXferBytes + 4096;
  fs::path dir_;
  test_support::CollectingReporter reporter_;
  CountingSink sink_;
  std::unique_ptr<SwitchDevice> device_;
  test_support::AlignedBuffer buf_{kBigBytes};
  iovec small_{}, big_{};
};

TEST_P(AllocationTest, CommandsInSteadyStateAllocateNothing) {
  ASSERT_GT(g_allocations.load(), 0u) << "the counter is not interposed: it would pass whatever the device does";
  uint64_t sent = 0;
  for (uint64_t r = 0; r < 20; r++) {  // warm-up: thread-local and lazy set-up in the libraries
    sent += run_round(r);
    sink_.wait_for(sent);
  }
  const uint64_t before = g_allocations.load();
  for (uint64_t r = 20; r < 120; r++) {
    sent += run_round(r);
    sink_.wait_for(sent);
  }
  const uint64_t allocations = g_allocations.load() - before;
  EXPECT_EQ(sink_.failed_.load(), 0u) << "kinds failed (bits of run_round's order): " << sink_.failed_ops_.load() << ", last status " << sink_.last_failure_.load();
  EXPECT_EQ(allocations, 0u) << "heap allocations during " << sent - 120 << " commands";
}

INSTANTIATE_TEST_SUITE_P(Engines, AllocationTest, ::testing::Values(EngineKind::kIoUring, EngineKind::kSync),
                         [](const ::testing::TestParamInfo<EngineKind>& p) {
                           return std::string(p.param == EngineKind::kIoUring ? "IoUring" : "Sync");
                         });

}  // namespace
}  // namespace tcmu_switch
