#include "zero_copy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

namespace tcmu_switch {
namespace {

// A fake UIO map whose mailbox describes a window, as kmod-patches writes it.
struct FakeMap {
  explicit FakeMap(size_t len) : bytes(len, 0) {}
  template <typename T>
  void put(size_t off, T v) { std::memcpy(bytes.data() + off, &v, sizeof(v)); }
  void offer(uint64_t zc_off, uint64_t zc_size, uint64_t nogup_off) {
    put<uint16_t>(zc_mailbox::kFlagsOffset, zc_mailbox::kCapZeroCopy | 0x0f);
    put<uint64_t>(zc_mailbox::kWindowOffset, zc_off);
    put<uint64_t>(zc_mailbox::kWindowSize, zc_size);
    put<uint64_t>(zc_mailbox::kNoGupOffset, nogup_off);
    put<uint32_t>(zc_mailbox::kSlotSize, 1 << 20);
    put<uint32_t>(zc_mailbox::kZcFlags, 1);
  }
  char* at(size_t off) { return bytes.data() + off; }
  std::vector<char> bytes;
};

TEST(ZeroCopyWindowTest, StockMailboxMeansEverythingIsCopied) {
  FakeMap map(1 << 16);
  map.put<uint16_t>(zc_mailbox::kFlagsOffset, 0x0f);  // the four stock capability bits
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  EXPECT_FALSE(w.present());
  EXPECT_EQ(w.classify(map.at(4096)), ZeroCopyWindow::BufferKind::kCopied);
  EXPECT_NE(w.describe().find("not offered"), std::string::npos);
  uint32_t caps = 1;
  std::memcpy(&caps, map.at(zc_mailbox::kHandlerCaps), sizeof(caps));
  EXPECT_EQ(caps, 0u) << "opted in to a window the kernel did not offer";
}

TEST(ZeroCopyWindowTest, OptsInWhenTheKernelOffersAWindow) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 40960);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  uint32_t caps = 0;
  std::memcpy(&caps, map.at(zc_mailbox::kHandlerCaps), sizeof(caps));
  EXPECT_EQ(caps, zc_mailbox::kHandlerZeroCopy | zc_mailbox::kHandlerNoGup);
}

TEST(ZeroCopyWindowTest, ClassifiesByAddressAndCounts) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 40960);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  ASSERT_TRUE(w.present());
  EXPECT_EQ(w.classify(map.at(4096)), ZeroCopyWindow::BufferKind::kCopied);
  EXPECT_EQ(w.classify(map.at(32768)), ZeroCopyWindow::BufferKind::kMapped);
  EXPECT_EQ(w.classify(map.at(40960)), ZeroCopyWindow::BufferKind::kMappedNoGup);
  EXPECT_EQ(w.classify(map.at(49152)), ZeroCopyWindow::BufferKind::kCopied);  // one past the end
  iovec mapped{map.at(33000), 512}, nogup{map.at(45000), 512}, copied{map.at(100), 512};
  EXPECT_EQ(w.count(&mapped, 1), ZeroCopyWindow::BufferKind::kMapped);
  EXPECT_EQ(w.count(&copied, 1), ZeroCopyWindow::BufferKind::kCopied);
  EXPECT_EQ(w.count(&copied, 1), ZeroCopyWindow::BufferKind::kCopied);
  EXPECT_EQ(w.count(&nogup, 1), ZeroCopyWindow::BufferKind::kMappedNoGup);
  EXPECT_EQ(w.count(nullptr, 0), ZeroCopyWindow::BufferKind::kCopied);  // no data: nothing counted
  EXPECT_EQ(w.mapped(), 1u);
  EXPECT_EQ(w.mapped_nogup(), 1u);
  EXPECT_EQ(w.copied(), 2u);
}

TEST(ZeroCopyWindowTest, NoGupPartStartsExactlyAtItsOffset) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 40960);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  EXPECT_EQ(w.classify(map.at(32767)), ZeroCopyWindow::BufferKind::kCopied);
  EXPECT_EQ(w.classify(map.at(40959)), ZeroCopyWindow::BufferKind::kMapped);
  EXPECT_EQ(w.classify(map.at(49151)), ZeroCopyWindow::BufferKind::kMappedNoGup);
}

TEST(ZeroCopyWindowTest, AWindowWithoutNoGupSlotsNeverClassifiesNoGup) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 32768 + 16384);  // zc_nogup_slots=0
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  for (size_t off = 32768; off < 49152; off += 512)
    EXPECT_EQ(w.classify(map.at(off)), ZeroCopyWindow::BufferKind::kMapped) << off;
}

TEST(ZeroCopyWindowTest, TallyNamesEveryCounter) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 40960);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  iovec mapped{map.at(33000), 512};
  w.count(&mapped, 1);
  const std::string tally = w.tally(5, 1);
  EXPECT_NE(tally.find("commands 1 mapped, 0 mapped no-GUP, 0 copied"), std::string::npos) << tally;
  EXPECT_NE(tally.find("5 no-GUP through the page cache, 1 mapped refused by O_DIRECT"), std::string::npos) << tally;
}

TEST(ZeroCopyWindowTest, CountersNameTheSummaryKeys) {
  FakeMap map(1 << 16);
  map.offer(32768, 16384, 40960);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  iovec nogup{map.at(45000), 512}, copied{map.at(100), 512};
  w.count(&nogup, 1);
  w.count(&copied, 1);
  w.count(&copied, 1);
  std::map<std::string, uint64_t> got;
  for (const NamedCounter& c : w.counters()) got[c.name] = c.value;
  EXPECT_EQ(got, (std::map<std::string, uint64_t>{{"zc_mapped", 0}, {"zc_mapped_nogup", 1}, {"zc_copied", 2}}));
}

TEST(ZeroCopyWindowTest, IgnoresAWindowOutsideTheMap) {
  FakeMap map(1 << 16);
  map.offer(1 << 15, 1 << 20, 1 << 15);
  ZeroCopyWindow w;
  w.attach(map.at(0), map.bytes.size());
  EXPECT_FALSE(w.present());
  EXPECT_NE(w.describe().find("does not fit"), std::string::npos);
  uint32_t caps = 1;
  std::memcpy(&caps, map.at(zc_mailbox::kHandlerCaps), sizeof(caps));
  EXPECT_EQ(caps, 0u) << "opted in to a window that does not fit the map";
}

}  // namespace
}  // namespace tcmu_switch
