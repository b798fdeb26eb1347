// ring_residual on a fake TCMU ring (fake_tcmu_ring: the kernel's header,
// libtcmu's completion), with PAD and TMR entries and a wrap.
#include "ring_residual.h"

#include <gtest/gtest.h>

#include <vector>

#include "fake_tcmu_ring.h"

namespace {

using tcmu_switch::ring::completion_landed;
using tcmu_switch::ring::mark_read_len;
using tcmu_switch::ring::next_completion_entry;
using tcmu_switch::ring::reports_read_len;

constexpr uint32_t kRingOffset = 128;
constexpr uint32_t kRingBytes = 1024;
constexpr uint32_t kCmdBytes = 128;  // a command entry with room for its iovecs

class RingResidualTest : public ::testing::Test {
 protected:
  void SetUp() override { fake_ring_init(map(), kRingOffset, kRingBytes, fake_ring_cap_read_len()); }
  uint8_t* map() { return map_.data(); }

  std::vector<uint8_t> map_ = std::vector<uint8_t>(kRingOffset + kRingBytes);
};

TEST_F(RingResidualTest, ReadLenIsReportedOnlyWhenTheKernelAdvertisesIt) {
  EXPECT_TRUE(reports_read_len(map()));
  fake_ring_init(map(), kRingOffset, kRingBytes, 0);
  EXPECT_FALSE(reports_read_len(map()));
}

TEST_F(RingResidualTest, NextCompletionGoesToTheCommandEntryAtTheTail) {
  const uint32_t first = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 7);
  const uint32_t second = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 8);
  EXPECT_EQ(next_completion_entry(map()), first);
  EXPECT_EQ(fake_ring_complete(map(), 8, 0), first);  // out of order: 8 completes into 7's entry
  EXPECT_EQ(next_completion_entry(map()), second);
}

TEST_F(RingResidualTest, NextCompletionSkipsPadAndTmrEntriesAcrossTheWrap) {
  for (int i = 0; i < 7; i++) fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 0);
  for (int i = 0; i < 7; i++) fake_ring_complete(map(), 0, 0);
  fake_ring_queue(map(), FAKE_RING_PAD, kRingBytes - 7 * kCmdBytes, 0);  // to the end of the ring
  fake_ring_queue(map(), FAKE_RING_TMR, 64, 0);
  const uint32_t command = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 9);
  EXPECT_EQ(command, kRingOffset + 64);
  EXPECT_EQ(next_completion_entry(map()), command);
  EXPECT_EQ(fake_ring_complete(map(), 9, 0), command);  // where libtcmu puts it
}

TEST_F(RingResidualTest, NoEntryWhenNoCommandIsInTheRing) {
  EXPECT_EQ(next_completion_entry(map()), std::nullopt);
  fake_ring_queue(map(), FAKE_RING_PAD, 64, 0);
  EXPECT_EQ(next_completion_entry(map()), std::nullopt);
}

TEST_F(RingResidualTest, NoEntryWhenAnEntryHasNoLength) {
  const uint32_t pad = fake_ring_queue(map(), FAKE_RING_PAD, 64, 0);
  fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 0);
  fake_ring_zero_length(map(), pad, FAKE_RING_PAD);  // libtcmu would never leave it
  EXPECT_EQ(next_completion_entry(map()), std::nullopt);
}

TEST_F(RingResidualTest, MarkedEntryCarriesReadLenAndKeepsItsHeader) {
  const uint32_t entry = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 7);
  mark_read_len(map(), entry, 36);
  const fake_ring_entry e = fake_ring_read(map(), entry);
  EXPECT_EQ(e.uflags, fake_ring_uflag_read_len());
  EXPECT_EQ(e.read_len, 36u);
  EXPECT_EQ(e.cmd_id, 7);
  EXPECT_EQ(e.kflags, 0x5a);
  EXPECT_EQ(e.op, FAKE_RING_CMD);
  EXPECT_EQ(e.len, kCmdBytes);
}

TEST_F(RingResidualTest, MarkedCompletionLandsWhenTheRunnerWritesItsStatus) {
  const uint32_t entry = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 7);
  mark_read_len(map(), entry, 36);
  EXPECT_FALSE(completion_landed(map(), entry));
  EXPECT_EQ(fake_ring_complete(map(), 7, 0), entry);  // GOOD
  EXPECT_TRUE(completion_landed(map(), entry));
  const fake_ring_entry e = fake_ring_read(map(), entry);  // what the kernel reads
  EXPECT_EQ(e.uflags, fake_ring_uflag_read_len());
  EXPECT_EQ(e.read_len, 36u);
}

TEST_F(RingResidualTest, MarkedCompletionHasLandedOnceTheKernelReusesTheEntry) {
  const uint32_t entry = fake_ring_queue(map(), FAKE_RING_CMD, kCmdBytes, 7);
  mark_read_len(map(), entry, 36);
  fake_ring_reuse(map(), entry);
  EXPECT_TRUE(completion_landed(map(), entry));
}

}  // namespace
