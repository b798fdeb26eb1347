// The real handler_switch.so, loaded into fake_runner (a test double of
// tcmu-runner and libtcmu), driven through its callouts on real files. The
// proof in a real kernel with Debian's runner is tests/vm (smoke, placement,
// reload and the fault scenarios).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aligned_buffer.h"
#include "fake_runner.h"
#include "scratch_dir.h"

using fake_runner::HostCommand;
using tcmu_switch::test_support::AlignedBuffer;

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kRegionSectors = 128;  // 64 KiB
constexpr uint64_t kRegionBytes = kRegionSectors * 512;
constexpr uint64_t kLunBytes = 2 << 20;   // 32 regions
constexpr uint64_t kPathBytes = 4 << 20;  // room to grow the LUN to 4 MiB, not beyond
constexpr uint64_t kNrRegions = kLunBytes / kRegionBytes;
constexpr int kNrPaths = 3;

// A table as a function of the region number, and its dm-switch text.
using Layout = std::function<uint32_t(uint64_t region_nr)>;

std::string table_text(const Layout& layout, uint64_t nr_regions) {
  std::string text = "# written by plugin_host_test\n";
  char entry[32];
  for (uint64_t r = 0; r < nr_regions; r++) {
    snprintf(entry, sizeof(entry), "%llx:%x\n", static_cast<unsigned long long>(r), layout(r));
    text += entry;
  }
  return text;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << file;
}

class PluginHostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    dl_ = fake_runner::load_plugin(HANDLER_SWITCH_SO, &error);
    ASSERT_NE(dl_, nullptr) << error;
  }

  void SetUp() override {
    ASSERT_NE(fake_runner::registered, nullptr);
    handler_ = fake_runner::registered;
    {
      std::lock_guard<std::mutex> lock(fake_runner::mutex);
      fake_runner::completions.clear();
      fake_runner::log_lines.clear();
    }
    dir_ = tcmu_switch::test_support::make_scratch_dir("plugin_host_test");
    for (int i = 0; i < kNrPaths; i++) {
      const fs::path f = path_file(i);
      int fd = ::open(f.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
      ASSERT_GE(fd, 0) << f;
      ASSERT_EQ(ftruncate(fd, kPathBytes), 0);
      ::close(fd);
    }
  }

  void TearDown() override {
    if (opened_) handler_->close(&dev_);
    fs::remove_all(dir_);
  }

  fs::path path_file(int i) const { return dir_ / ("path" + std::to_string(i)); }

  // A placement config over the three path files with `layout` as its table
  // (extra lines go into [device]); returns the cfgstring naming it.
  std::string make_config(const std::string& name, const Layout& layout, const std::string& extra = "") {
    const fs::path table = dir_ / (name + ".table");
    // The regions of the LUN as opened; regions a grown LUN adds take the
    // default, round-robin, which is kModThree.
    write_text(table, table_text(layout, kNrRegions));
    std::string conf = "[device]\nregion_sectors=" + std::to_string(kRegionSectors) +
                       "\nmode=placement\ntable=" + table.filename().string() + "\n" + extra;
    for (int i = 0; i < kNrPaths; i++)
      conf += "\n[path." + std::to_string(i) + "]\ndevice=" + path_file(i).string() + "\noffset=0\n";
    write_text(dir_ / (name + ".conf"), conf);
    return "switch/" + (dir_ / (name + ".conf")).string();
  }

  void open_device(const std::string& cfgstring) {
    dev_.cfgstring = cfgstring;
    dev_.num_lbas = kLunBytes / dev_.block_size;
    ASSERT_EQ(handler_->open(&dev_, false), 0) << fake_runner::log_text();
    opened_ = true;
  }

  // Runs the callout; OK means the plugin owns the command until it calls
  // tcmur_cmd_complete() exactly once: from the command thread itself when
  // the paths finish every piece at once, else from an engine worker. The
  // completion is taken out of the host's record, so a second one for the
  // same command (whose address a later command may reuse) stays there for
  // expect_each_completed_once() to find.
  int wait_completion(HostCommand& c, int callout_rc) {
    if (callout_rc != TCMU_STS_OK) return callout_rc;
    std::unique_lock<std::mutex> lock(fake_runner::mutex);
    const bool done = fake_runner::cv.wait_for(lock, std::chrono::seconds(20), [&] {
      return fake_runner::completions.count(&c.cmd) != 0;
    });
    EXPECT_TRUE(done) << "command never completed";
    if (!done) return TCMU_STS_TIMEOUT;
    const fake_runner::Completion first = fake_runner::completions[&c.cmd].front();
    fake_runner::completions[&c.cmd].erase(fake_runner::completions[&c.cmd].begin());
    if (fake_runner::completions[&c.cmd].empty()) fake_runner::completions.erase(&c.cmd);
    return first.status;
  }

  int write(uint64_t off, AlignedBuffer& buf, const std::vector<size_t>& iov_lens) {
    HostCommand c(WRITE_16, buf.bytes(), iov_lens);
    return wait_completion(c, handler_->write(&dev_, &c.cmd, c.iov.data(), c.iov.size(), buf.size,
                                              static_cast<off_t>(off)));
  }

  int read(uint64_t off, AlignedBuffer& buf, const std::vector<size_t>& iov_lens) {
    HostCommand c(READ_16, buf.bytes(), iov_lens);
    return wait_completion(c, handler_->read(&dev_, &c.cmd, c.iov.data(), c.iov.size(), buf.size,
                                             static_cast<off_t>(off)));
  }

  int flush() {
    HostCommand c(SYNCHRONIZE_CACHE_16, nullptr, {});
    return wait_completion(c, handler_->flush(&dev_, &c.cmd));
  }

  int unmap(uint64_t off, uint64_t len) {
    HostCommand c(UNMAP, nullptr, {});
    return wait_completion(c, handler_->unmap(&dev_, &c.cmd, off, len));
  }

  int reconfig_cfgstring(const std::string& cfgstring) {
    std::string copy = cfgstring;  // the runner passes a writable string
    tcmulib_cfg_info cfg = {};
    cfg.type = TCMULIB_CFG_DEV_CFGSTR;
    cfg.data.dev_cfgstring = copy.data();
    return handler_->reconfig(&dev_, &cfg);
  }

  // As the runner does on success (main.c:890-906): the new LBA count.
  int reconfig_size(uint64_t size_bytes) {
    tcmulib_cfg_info cfg = {};
    cfg.type = TCMULIB_CFG_DEV_SIZE;
    cfg.data.dev_size = size_bytes;
    const int rc = handler_->reconfig(&dev_, &cfg);
    if (rc == 0) dev_.num_lbas = size_bytes / dev_.block_size;
    return rc;
  }

  // The bytes at LUN offset `off` as stored in path file `path_nr`.
  std::vector<unsigned char> path_bytes(int path_nr, uint64_t off, size_t len) {
    std::vector<unsigned char> out(len);
    int fd = ::open(path_file(path_nr).c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(pread(fd, out.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
    ::close(fd);
    return out;
  }

  // Every byte of [off, off + len) is on the path `layout` names for its
  // region and not on the others.
  void expect_routed(const Layout& layout, uint64_t off, const unsigned char* data, size_t len) {
    for (uint64_t at = off; at < off + len;) {
      const uint64_t region_nr = at / kRegionBytes;
      const uint64_t piece = std::min<uint64_t>((region_nr + 1) * kRegionBytes, off + len) - at;
      const std::vector<unsigned char> want(data + (at - off), data + (at - off) + piece);
      for (int p = 0; p < kNrPaths; p++) {
        if (static_cast<uint32_t>(p) == layout(region_nr))
          EXPECT_EQ(path_bytes(p, at, piece), want) << "region " << region_nr << " missing on path " << p;
        else
          EXPECT_NE(path_bytes(p, at, piece), want) << "region " << region_nr << " also on path " << p;
      }
      at += piece;
    }
  }

  static void fill(AlignedBuffer& buf, unsigned seed) {
    for (size_t i = 0; i < buf.size; i++) buf.bytes()[i] = static_cast<unsigned char>((i * 131 + seed * 7 + i / 4096) | 1);
  }

  // No command was completed twice, and none that the test did not wait for.
  void expect_each_completed_once() {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // late duplicates
    std::lock_guard<std::mutex> lock(fake_runner::mutex);
    for (const auto& [cmd, calls] : fake_runner::completions)
      ADD_FAILURE() << "command " << cmd << ": " << calls.size() << " completion(s) nobody waited for";
  }

  static void* dl_;
  tcmur_handler* handler_ = nullptr;
  fs::path dir_;
  tcmu_device dev_;
  bool opened_ = false;
  unsigned char last_sense_[18] = {};
};

void* PluginHostTest::dl_ = nullptr;

const Layout kModThree = [](uint64_t r) { return static_cast<uint32_t>(r % 3); };
const Layout kReversed = [](uint64_t r) { return static_cast<uint32_t>(2 - (r % 3)); };

TEST_F(PluginHostTest, HandlerInitRegistersTheSwitchSubtypeWithAsyncCallouts) {
  EXPECT_EQ(fake_runner::nr_registrations, 1);
  EXPECT_STREQ(handler_->subtype, "switch");
  EXPECT_NE(handler_->name, nullptr);
  ASSERT_NE(handler_->cfg_desc, nullptr);
  EXPECT_EQ(handler_->nr_threads, 0);  // callouts submit and return (abi note 5.3)
  for (const void* callout : {reinterpret_cast<const void*>(handler_->check_config),
                              reinterpret_cast<const void*>(handler_->open),
                              reinterpret_cast<const void*>(handler_->close),
                              reinterpret_cast<const void*>(handler_->reconfig),
                              reinterpret_cast<const void*>(handler_->handle_cmd),  // synchronous (abi note 5.2)
                              reinterpret_cast<const void*>(handler_->read),
                              reinterpret_cast<const void*>(handler_->write),
                              reinterpret_cast<const void*>(handler_->flush),
                              reinterpret_cast<const void*>(handler_->unmap)})
    EXPECT_NE(callout, nullptr);
}

// targetcli prints cfg_desc under `help create` and builds the cfgstring as
// "<subtype>/" + what the admin typed (ui_backstore.py): what the text says to
// type must be what check_config accepts once targetcli has added the prefix.
TEST_F(PluginHostTest, HelpCreateTextIsRightInsideTargetcli) {
  const std::string desc = handler_->cfg_desc;
  const std::string form = "cfgstring=<absolute path of a device config file>";
  ASSERT_EQ(desc.rfind(form, 0), 0u) << desc;
  const std::string conf = make_config("typed", kModThree).substr(std::string("switch/").size());
  char* reason = nullptr;
  EXPECT_TRUE(handler_->check_config((std::string(handler_->subtype) + "/" + conf).c_str(), &reason))
      << (reason ? reason : "");
  std::free(reason);
}

TEST_F(PluginHostTest, CheckConfigAcceptsAGoodFileAndNamesWhatIsWrongOtherwise) {
  char* reason = nullptr;
  EXPECT_TRUE(handler_->check_config(make_config("good", kModThree).c_str(), &reason));
  EXPECT_EQ(reason, nullptr);

  write_text(dir_ / "typo.conf", "[device]\nregion_sectors=128\ncolour=red\n[path.0]\ndevice=/dev/null\n");
  const std::string missing = (dir_ / "missing.conf").string();
  const struct {
    std::string cfgstring;
    std::string names;  // the reason must contain this
  } cases[] = {
      {"file/" + (dir_ / "good.conf").string(), "does not start with \"switch/\""},
      {"switch/", "names no config file"},
      {"switch/" + missing, missing},
      {"switch/" + (dir_ / "typo.conf").string(), "unknown key \"colour\""},
  };
  for (const auto& c : cases) {
    reason = nullptr;
    EXPECT_FALSE(handler_->check_config(c.cfgstring.c_str(), &reason)) << c.cfgstring;
    ASSERT_NE(reason, nullptr) << c.cfgstring;
    EXPECT_NE(std::string(reason).find(c.names), std::string::npos) << "reason: " << reason;
    std::free(reason);  // as the runner does
  }
}

TEST_F(PluginHostTest, OpenAdvertisesWholeRangeUnmapsAndRefusesABadConfig) {
  dev_.cfgstring = "switch/" + (dir_ / "absent.conf").string();
  dev_.num_lbas = kLunBytes / dev_.block_size;
  EXPECT_LT(handler_->open(&dev_, false), 0);
  EXPECT_EQ(dev_.handler_private, nullptr);

  open_device(make_config("a", kModThree));
  EXPECT_NE(dev_.handler_private, nullptr);
  EXPECT_EQ(dev_.opt_unmap_gran, kRegionBytes / dev_.block_size);
  EXPECT_FALSE(dev_.unmap_split);  // the device splits at regions; one runner sub-command per region ran the pool dry
  EXPECT_EQ(dev_.unmap_gran_align, kRegionBytes / dev_.block_size);  // never 0: the runner divides by it
  // 64 MiB: not the transfer limit, and small enough to zero inside cmd_time_out.
  EXPECT_EQ(dev_.max_unmap_len, (64u << 20) / dev_.block_size);
  EXPECT_TRUE(fake_runner::log_has("commands stop issuing after 22500 ms")) << fake_runner::log_text();  // 30 s less a quarter
  EXPECT_TRUE(dev_.write_cache);
}

// The device's pools come from the LUN: two command contexts per slot of its
// hw_queue_depth, pieces for its max transfer (1024 blocks of 512 bytes).
TEST_F(PluginHostTest, PoolsAreSizedFromTheLunsQueueDepthAndMaxTransfer) {
  dev_.hw_queue_depth = 16;
  open_device(make_config("depth", kModThree));
  EXPECT_TRUE(fake_runner::log_has("pools of 32 commands")) << fake_runner::log_text();
  EXPECT_TRUE(fake_runner::log_has("(queue depth 16, max transfer 512 KiB)")) << fake_runner::log_text();
}

TEST_F(PluginHostTest, AnUnreadableQueueDepthIsSaidAndTheDefaultTaken) {
  dev_.hw_queue_depth = -ENOENT;
  open_device(make_config("nodepth", kModThree));
  EXPECT_TRUE(fake_runner::log_has("hw_queue_depth unreadable (-2): pools sized for 128 commands"))
      << fake_runner::log_text();
  EXPECT_TRUE(fake_runner::log_has("pools of 256 commands")) << fake_runner::log_text();
}

TEST_F(PluginHostTest, WritesLandOnTheTablesPathAndReadBackThroughIovecs) {
  open_device(make_config("a", kModThree));
  // 3.5 regions from the middle of region 1, in uneven iovecs.
  const uint64_t off = kRegionBytes + 40 * 1024;
  AlignedBuffer out(224 * 1024), in(224 * 1024);
  fill(out, 1);
  ASSERT_EQ(write(off, out, {64 * 1024, 100 * 1024, 60 * 1024}), TCMU_STS_OK);
  expect_routed(kModThree, off, out.bytes(), out.size);
  ASSERT_EQ(read(off, in, {4096, 200 * 1024, 20 * 1024}), TCMU_STS_OK);
  EXPECT_EQ(std::memcmp(in.bytes(), out.bytes(), out.size), 0);
  EXPECT_EQ(flush(), TCMU_STS_OK);
  expect_each_completed_once();
}

TEST_F(PluginHostTest, ManyCommandsInFlightEachCompleteExactlyOnce) {
  open_device(make_config("a", kModThree));
  constexpr int kCommands = 64;
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  std::vector<std::unique_ptr<HostCommand>> cmds;
  for (int i = 0; i < kCommands; i++) {
    bufs.push_back(std::make_unique<AlignedBuffer>(96 * 1024));
    fill(*bufs.back(), static_cast<unsigned>(i));
    cmds.push_back(std::make_unique<HostCommand>(WRITE_16, bufs.back()->bytes(), std::vector<size_t>{96 * 1024}));
  }
  for (int i = 0; i < kCommands; i++) {  // all queued before any is waited for
    const uint64_t off = (static_cast<uint64_t>(i) * 96 * 1024) % (kLunBytes - 96 * 1024);
    const int rc = handler_->write(&dev_, &cmds[i]->cmd, cmds[i]->iov.data(), 1, 96 * 1024, static_cast<off_t>(off));
    ASSERT_EQ(rc, TCMU_STS_OK) << "command " << i;
  }
  for (auto& c : cmds) EXPECT_EQ(wait_completion(*c, TCMU_STS_OK), TCMU_STS_OK);
  expect_each_completed_once();
}

TEST_F(PluginHostTest, UnmapDeallocatesOnlyTheOwningPathsRegions) {
  open_device(make_config("a", kModThree));
  AlignedBuffer out(4 * kRegionBytes);
  fill(out, 2);
  ASSERT_EQ(write(3 * kRegionBytes, out, {out.size}), TCMU_STS_OK);  // regions 3..6 on paths 0, 1, 2, 0
  ASSERT_EQ(unmap(4 * kRegionBytes, 2 * kRegionBytes), TCMU_STS_OK);  // whole, as the runner hands it over
  const std::vector<unsigned char> zeroes(kRegionBytes, 0);
  EXPECT_EQ(path_bytes(1, 4 * kRegionBytes, kRegionBytes), zeroes);
  EXPECT_EQ(path_bytes(2, 5 * kRegionBytes, kRegionBytes), zeroes);
  expect_routed(kModThree, 3 * kRegionBytes, out.bytes(), kRegionBytes);
  expect_routed(kModThree, 6 * kRegionBytes, out.bytes() + 3 * kRegionBytes, kRegionBytes);
  expect_each_completed_once();
}

TEST_F(PluginHostTest, HandleCmdRefusesAnchoredWriteSameAndLeavesReadsAndWritesToTheRunner) {
  open_device(make_config("a", kModThree));
  HostCommand anchored(WRITE_SAME_16, nullptr, {});
  anchored.cdb[1] = 0x18;  // ANCHOR and UNMAP: the LBP VPD page has ANC_SUP=0
  EXPECT_EQ(handler_->handle_cmd(&dev_, &anchored.cmd), TCMU_STS_PASSTHROUGH_ERR);  // CHECK CONDITION
  EXPECT_EQ(anchored.lib.sense_buf[12], 0x24);                                  // INVALID FIELD IN CDB
  EXPECT_EQ(anchored.lib.sense_buf[15], 0xc0 | 0x08 | 4);                       // at byte 1, bit 4
  EXPECT_EQ(anchored.lib.sense_buf[17], 1);
  EXPECT_TRUE(fake_runner::log_has("ANCHOR")) << fake_runner::log_text();
  for (const int opcode : {READ_16, WRITE_16}) {
    HostCommand plain(static_cast<uint8_t>(opcode), nullptr, {});
    plain.cdb[1] = 0x08;  // FUA: honoured, not refused
    EXPECT_EQ(handler_->handle_cmd(&dev_, &plain.cmd), TCMU_STS_NOT_HANDLED) << "opcode " << opcode;
  }
  expect_each_completed_once();  // the callout completes nothing itself
}

// Path files deallocate to zeroes (holes), so LBPRZ is claimed, in both
// places an initiator reads it, each cut to the allocation length with the
// rest of the buffer zeroed (no residual reaches the initiator).
TEST_F(PluginHostTest, HandleCmdAnswersLbprzAsThePathsMakeIt) {
  open_device(make_config("a", kModThree));
  EXPECT_TRUE(fake_runner::log_has("LBPRZ: every path deallocates to zeroes")) << fake_runner::log_text();
  unsigned char cap[32] = {};
  HostCommand rc16(SERVICE_ACTION_IN_16, cap, {sizeof(cap)});
  rc16.cdb[1] = READ_CAPACITY_16;
  rc16.cdb[13] = sizeof(cap);
  EXPECT_EQ(handler_->handle_cmd(&dev_, &rc16.cmd), TCMU_STS_OK);
  EXPECT_EQ(cap[7], static_cast<unsigned char>(dev_.num_lbas - 1));
  EXPECT_EQ(cap[14], 0xc0);  // LBPME | LBPRZ
  unsigned char page[16];
  std::memset(page, 0xee, sizeof(page));  // stale ring bytes
  constexpr uint8_t kInquiry = 0x12;
  HostCommand vpd(kInquiry, page, {sizeof(page)});
  vpd.cdb[1] = 0x01;  // EVPD
  vpd.cdb[2] = 0xb2;
  vpd.cdb[4] = sizeof(page);
  EXPECT_EQ(handler_->handle_cmd(&dev_, &vpd.cmd), TCMU_STS_OK);
  EXPECT_EQ(page[1], 0xb2);
  EXPECT_EQ(page[5], 0xe4);  // LBPU | LBPWS | LBPWS10 | LBPRZ 001b
  for (size_t i = 8; i < sizeof(page); i++) EXPECT_EQ(page[i], 0) << i;
  expect_each_completed_once();
}

// Block Limits carry the plugin's own limits, and MODE SENSE says DPOFUA.
TEST_F(PluginHostTest, HandleCmdAnswersBlockLimitsAndModeSense) {
  open_device(make_config("a", kModThree));
  unsigned char page[64] = {};
  HostCommand limits(0x12, page, {sizeof(page)});
  limits.cdb[1] = 0x01;
  limits.cdb[2] = 0xb0;
  limits.cdb[4] = sizeof(page);
  ASSERT_EQ(handler_->handle_cmd(&dev_, &limits.cmd), TCMU_STS_OK);
  EXPECT_EQ(page[5], 255);                    // COMPARE AND WRITE: min(255, 1024 / 2)
  EXPECT_EQ(page[6] << 8 | page[7], 128);     // the region, in blocks
  EXPECT_EQ(page[10] << 8 | page[11], 1024);  // max_xfer_len
  unsigned char mode[64] = {};
  HostCommand sense(0x1a, mode, {sizeof(mode)});
  sense.cdb[2] = 0x08;
  sense.cdb[4] = sizeof(mode);
  ASSERT_EQ(handler_->handle_cmd(&dev_, &sense.cmd), TCMU_STS_OK);
  EXPECT_EQ(mode[2], 0x10);  // DPOFUA
  EXPECT_EQ(mode[4 + 8], 0x08);  // caching page after the block descriptor
}

// COMPARE AND WRITE of several blocks across a region boundary: written
// when the verify data matches, MISCOMPARE with the first differing byte's
// offset in INFORMATION when not, the paths unchanged then.
TEST_F(PluginHostTest, CompareAndWriteWritesOnMatchAndReportsTheFirstMiscompare) {
  open_device(make_config("a", kModThree));
  constexpr size_t kBlocks = 16;
  constexpr size_t kLen = kBlocks * 512;
  const uint64_t off = kRegionBytes - kLen / 2;  // straddles regions 0 and 1
  AlignedBuffer old_data(kLen);
  fill(old_data, 5);
  ASSERT_EQ(write(off, old_data, {kLen}), TCMU_STS_OK);
  AlignedBuffer out(2 * kLen);
  std::memcpy(out.bytes(), old_data.bytes(), kLen);
  for (size_t i = 0; i < kLen; i++) out.bytes()[kLen + i] = static_cast<unsigned char>(i * 7 + 3);
  auto caw = [&](AlignedBuffer& data) {
    constexpr uint8_t kCompareAndWrite = 0x89;
    HostCommand c(kCompareAndWrite, data.bytes(), {kLen, kLen});  // verify, then write data
    const uint64_t lba = off / 512;
    for (int i = 0; i < 8; i++) c.cdb[2 + i] = static_cast<uint8_t>(lba >> (56 - 8 * i));
    c.cdb[13] = kBlocks;
    const int rc = handler_->handle_cmd(&dev_, &c.cmd);
    std::memcpy(last_sense_, c.lib.sense_buf, sizeof(last_sense_));
    return rc;
  };
  ASSERT_EQ(caw(out), TCMU_STS_OK);
  AlignedBuffer back(kLen);
  ASSERT_EQ(read(off, back, {kLen}), TCMU_STS_OK);
  EXPECT_EQ(std::memcmp(back.bytes(), out.bytes() + kLen, kLen), 0);
  // Again with the old verify data: the blocks now hold the write data.
  const size_t first_diff = [&] {
    for (size_t i = 0; i < kLen; i++)
      if (out.bytes()[i] != out.bytes()[kLen + i]) return i;
    return kLen;
  }();
  ASSERT_LT(first_diff, kLen);
  AlignedBuffer again(2 * kLen);
  std::memcpy(again.bytes(), old_data.bytes(), kLen);
  std::memset(again.bytes() + kLen, 0x77, kLen);
  EXPECT_EQ(caw(again), TCMU_STS_PASSTHROUGH_ERR);
  EXPECT_EQ(last_sense_[2] & 0x0f, 0x0e);  // MISCOMPARE
  EXPECT_EQ(last_sense_[12], 0x1d);
  EXPECT_EQ(last_sense_[0] & 0x80, 0x80);  // INFORMATION valid
  const uint32_t info = last_sense_[3] << 24 | last_sense_[4] << 16 | last_sense_[5] << 8 | last_sense_[6];
  EXPECT_EQ(info, first_diff);
  ASSERT_EQ(read(off, back, {kLen}), TCMU_STS_OK);
  EXPECT_EQ(std::memcmp(back.bytes(), out.bytes() + kLen, kLen), 0);  // unchanged
  expect_each_completed_once();  // its own read and write never reached tcmur_cmd_complete
}

// VERIFY with BYTCHK 01b and 11b over more than one slot of the plugin's
// buffer and across regions: GOOD on equal data, MISCOMPARE at the first
// differing byte of the range otherwise.
TEST_F(PluginHostTest, VerifyComparesTheMediumWithDataOut) {
  open_device(make_config("a", kModThree));
  constexpr size_t kBlocks = 600;  // > 255 blocks: three slots of the plugin's buffer
  constexpr size_t kLen = kBlocks * 512;
  AlignedBuffer data(kLen);
  fill(data, 11);
  ASSERT_EQ(write(0, data, {kLen}), TCMU_STS_OK);
  auto verify = [&](unsigned char* out, size_t out_len, uint8_t bytchk, uint32_t blocks) {
    constexpr uint8_t kVerify16 = 0x8f;
    HostCommand c(kVerify16, out, {out_len});
    c.cdb[1] = static_cast<uint8_t>(bytchk << 1);
    for (int i = 0; i < 4; i++) c.cdb[10 + i] = static_cast<uint8_t>(blocks >> (24 - 8 * i));
    const int rc = handler_->handle_cmd(&dev_, &c.cmd);
    std::memcpy(last_sense_, c.lib.sense_buf, sizeof(last_sense_));
    return rc;
  };
  auto info = [&] { return last_sense_[3] << 24 | last_sense_[4] << 16 | last_sense_[5] << 8 | last_sense_[6]; };
  AlignedBuffer same(kLen);
  std::memcpy(same.bytes(), data.bytes(), kLen);
  EXPECT_EQ(verify(same.bytes(), kLen, 1, kBlocks), TCMU_STS_OK);
  same.bytes()[kLen - 3] ^= 1;  // in the last slot
  EXPECT_EQ(verify(same.bytes(), kLen, 1, kBlocks), TCMU_STS_PASSTHROUGH_ERR);
  EXPECT_EQ(last_sense_[2], 0x0e);
  EXPECT_EQ(info(), static_cast<int>(kLen - 3));
  // 11b: one block against every block of the range.
  AlignedBuffer pattern(kLen);
  std::memset(pattern.bytes(), 0x5c, kLen);
  ASSERT_EQ(write(0, pattern, {kLen}), TCMU_STS_OK);
  EXPECT_EQ(verify(pattern.bytes(), 512, 3, kBlocks), TCMU_STS_OK);
  pattern.bytes()[300 * 512 + 9] = 0;
  ASSERT_EQ(write(0, pattern, {kLen}), TCMU_STS_OK);
  std::memset(pattern.bytes(), 0x5c, 512);
  EXPECT_EQ(verify(pattern.bytes(), 512, 3, kBlocks), TCMU_STS_PASSTHROUGH_ERR);
  EXPECT_EQ(info(), 300 * 512 + 9);
  EXPECT_EQ(verify(nullptr, 0, 0, kBlocks), TCMU_STS_OK);  // 00b: the range only
  expect_each_completed_once();
}

TEST_F(PluginHostTest, ReconfigToAnotherTableMovesRoutingAndABadOneChangesNothing) {
  open_device(make_config("a", kModThree));
  AlignedBuffer out(4 * kRegionBytes);

  ASSERT_EQ(reconfig_cfgstring(make_config("b", kReversed)), 0);
  fill(out, 3);
  ASSERT_EQ(write(8 * kRegionBytes, out, {out.size}), TCMU_STS_OK);
  expect_routed(kReversed, 8 * kRegionBytes, out.bytes(), out.size);

  // A table naming path 7 of 3: refused, and the next write still follows b.
  const std::string bad = make_config("bad", kReversed);
  write_text(dir_ / "bad.table", "0:0\n1:7\n");
  EXPECT_LT(reconfig_cfgstring(bad), 0);
  EXPECT_TRUE(fake_runner::log_has("reconfig refused, nothing changed"));
  EXPECT_TRUE(fake_runner::log_has("path 7"));
  // So is a config that would change the mode of a live LUN.
  EXPECT_LT(reconfig_cfgstring(make_config("mp", kModThree, "mode=multipath\n")), 0);
  fill(out, 4);
  ASSERT_EQ(write(16 * kRegionBytes, out, {out.size}), TCMU_STS_OK);
  expect_routed(kReversed, 16 * kRegionBytes, out.bytes(), out.size);
  expect_each_completed_once();
}

TEST_F(PluginHostTest, DevSizeGrowsWithinThePathsAndShrinksNoFurtherThanTheTable) {
  open_device(make_config("a", kModThree));
  AlignedBuffer out(kRegionBytes), in(kRegionBytes);
  fill(out, 5);
  const uint64_t beyond = kLunBytes + 4 * kRegionBytes;  // region 36: path 0

  // Not yet part of the LUN.
  EXPECT_EQ(write(beyond, out, {out.size}), TCMU_STS_RANGE);
  EXPECT_LT(reconfig_size(2 * kPathBytes), 0);  // no path holds 8 MiB
  ASSERT_EQ(reconfig_size(kPathBytes), 0);
  ASSERT_EQ(write(beyond, out, {out.size}), TCMU_STS_OK);
  expect_routed(kModThree, beyond, out.bytes(), out.size);

  // Back to the size the table was written for.
  ASSERT_EQ(reconfig_size(kLunBytes), 0);
  EXPECT_EQ(read(kLunBytes, in, {in.size}), TCMU_STS_RANGE);
  EXPECT_EQ(read(kLunBytes - kRegionBytes, in, {in.size}), TCMU_STS_OK);

  // Smaller than the regions the table names: refused, the size stays.
  EXPECT_LT(reconfig_size(kLunBytes / 2), 0);
  EXPECT_TRUE(fake_runner::log_has("region 0x10 (16) >= nr_regions 16")) << fake_runner::log_text();
  EXPECT_EQ(read(kLunBytes - kRegionBytes, in, {in.size}), TCMU_STS_OK);
  expect_each_completed_once();
}

TEST_F(PluginHostTest, CloseReleasesTheDeviceAndItOpensAgain) {
  open_device(make_config("a", kModThree));
  AlignedBuffer out(kRegionBytes), in(kRegionBytes);
  fill(out, 6);
  ASSERT_EQ(write(0, out, {out.size}), TCMU_STS_OK);
  handler_->close(&dev_);
  opened_ = false;
  EXPECT_EQ(dev_.handler_private, nullptr);

  ASSERT_EQ(handler_->open(&dev_, true), 0);  // a reopen, as after recovery
  opened_ = true;
  ASSERT_EQ(read(0, in, {in.size}), TCMU_STS_OK);
  EXPECT_EQ(std::memcmp(in.bytes(), out.bytes(), out.size), 0);
  expect_each_completed_once();
}

// A command ring in the fake device's mailbox, in target_core_user.h's
// layout (offsets, since libtcmu's headers carry their own copy of it): a
// kernel that takes READ_LEN, a PAD entry at the tail, then command entries.
class MailboxRing {
 public:
  static constexpr uint32_t kRingOffset = 128, kRingBytes = 1024, kPadBytes = 64, kCmdBytes = 128;
  explicit MailboxRing(unsigned char* mailbox) : mb_(mailbox) {
    put<uint16_t>(2, 1u << 1);  // flags: TCMU_MAILBOX_FLAG_CAP_READ_LEN
    put<uint32_t>(4, kRingOffset);
    put<uint32_t>(8, kRingBytes);
    put<uint32_t>(kRingOffset, kPadBytes);  // len_op: TCMU_OP_PAD (0)
    head_ = kPadBytes;
  }
  // A command entry queued by the kernel; returns its offset in the map.
  uint32_t queue() {
    const uint32_t at = kRingOffset + head_;
    put<uint32_t>(at, kCmdBytes | 1);  // TCMU_OP_CMD
    head_ += kCmdBytes;
    put<uint32_t>(12, head_);  // cmd_head
    return at;
  }
  // What tcmu-runner does after handle_cmd returns: the status (GOOD) into the
  // next command entry, the tail past it.
  void complete(uint32_t entry) {
    put<uint8_t>(entry + 8, 0);
    put<uint32_t>(64, entry + kCmdBytes - kRingOffset);  // cmd_tail
  }
  uint8_t uflags(uint32_t entry) const { return mb_[entry + 7]; }
  uint32_t read_len(uint32_t entry) const {
    uint32_t v;
    std::memcpy(&v, mb_ + entry + 12, sizeof(v));
    return v;
  }

 private:
  template <typename T>
  void put(uint32_t at, T v) {
    std::atomic_ref<T>(*reinterpret_cast<T*>(mb_ + at)).store(v);
  }
  unsigned char* mb_;
  uint32_t head_ = 0;
};

// INQUIRY's 96 bytes of standard data asked for with 100 (more than half: the
// buffer is measured before the copy moves the iovec): the entry its
// completion lands in (past the PAD) says 96, and the plugin's own
// completions wait until the runner has written that one.
TEST_F(PluginHostTest, ShortAnswerReportsItsLengthInTheEntryItsCompletionLandsIn) {
  MailboxRing ring(dev_.mailbox);
  const uint32_t entry = ring.queue();
  ring.queue();  // the READ below
  open_device(make_config("a", kModThree));
  unsigned char inquiry[100];
  HostCommand c(0x12, inquiry, {sizeof(inquiry)});
  c.cdb[4] = sizeof(inquiry);
  ASSERT_EQ(handler_->handle_cmd(&dev_, &c.cmd), TCMU_STS_OK);
  EXPECT_EQ(ring.uflags(entry), 1u << 1);  // TCMU_UFLAG_READ_LEN
  EXPECT_EQ(ring.read_len(entry), 96u);
  AlignedBuffer buf(4096);
  std::thread reader([&] { EXPECT_EQ(read(0, buf, {buf.size}), TCMU_STS_OK); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard<std::mutex> lock(fake_runner::mutex);
    EXPECT_TRUE(fake_runner::completions.empty()) << "a completion went in ahead of INQUIRY's";
  }
  ring.complete(entry);
  reader.join();
  expect_each_completed_once();
}

// Once an EXTENDED COPY names another LUN, whose thread completes it, nothing
// is marked on this LUN any more.
TEST_F(PluginHostTest, CopyNamingAnotherLunEndsResiduals) {
  MailboxRing ring(dev_.mailbox);
  const uint32_t entry = ring.queue();
  open_device(make_config("a", kModThree));
  unsigned char list[16 + 2 * 32 + 28] = {};
  list[3] = 2 * 32;  // target descriptors, both naming a LUN that is not this one
  list[11] = 28;     // one block-to-block segment
  for (size_t at : {16, 48}) {
    list[at] = 0xe4;
    list[at + 8] = 0x60;
  }
  list[80] = 0x02;
  list[83] = 0x18;
  HostCommand copy(0x83, list, {sizeof(list)});
  copy.cdb[13] = sizeof(list);
  EXPECT_EQ(handler_->handle_cmd(&dev_, &copy.cmd), TCMU_STS_NOT_HANDLED);
  EXPECT_TRUE(fake_runner::log_has("EXTENDED COPY names another LUN")) << fake_runner::log_text();
  unsigned char inquiry[255];
  HostCommand c(0x12, inquiry, {sizeof(inquiry)});
  c.cdb[4] = sizeof(inquiry);
  ASSERT_EQ(handler_->handle_cmd(&dev_, &c.cmd), TCMU_STS_OK);
  EXPECT_EQ(ring.uflags(entry), 0u);
  expect_each_completed_once();
}

}  // namespace
