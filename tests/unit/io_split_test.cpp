#include "io_split.h"

#include <climits>

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "fixed_pool.h"
#include "io_request.h"
#include "mpmc_queue.h"

namespace tcmu_switch {
namespace {

using Piece = std::tuple<uint64_t, uint64_t, uint64_t>;

std::vector<Piece> split(uint64_t region_bytes, uint64_t off, uint64_t len) {
  std::vector<Piece> out;
  for_each_region_piece(region_bytes, off, len, [&](uint64_t r, uint64_t o, uint64_t l) { out.emplace_back(r, o, l); });
  EXPECT_EQ(out.size(), count_region_pieces(region_bytes, off, len));
  return out;
}

// extend_request joins a slice that runs on from the request's last iovec
// and appends the others after it.
TEST(IoSplitTest, ExtendingARequestJoinsIovecsThatRunOn) {
  std::vector<char> buf(3 * 4096);
  std::vector<char> other(4096);
  iovec iov[4] = {{buf.data(), 4096}, {buf.data() + 4096, 4096}, {other.data(), 4096}, {buf.data() + 8192, 4096}};
  IoRequest req{.len = 4096, .iov = iov};
  req.iov_cnt = 1;
  EXPECT_TRUE(fits_iov_max(req, iov + 1, 3));
  extend_request(req, 3 * 4096, iov + 1, 3);
  EXPECT_EQ(req.len, 4u * 4096);
  EXPECT_EQ(req.nr_regions, 2u);
  ASSERT_EQ(req.iov_cnt, 3u);
  EXPECT_EQ(iov[0].iov_base, buf.data());
  EXPECT_EQ(iov[0].iov_len, 8192u);
  EXPECT_EQ(iov[1].iov_base, other.data());
  EXPECT_EQ(iov[2].iov_base, buf.data() + 8192);
}

// A merged request stays within IOV_MAX iovecs: a slice that joins the last
// iovec costs none.
TEST(IoSplitTest, AMergeThatWouldPassIovMaxIsRefused) {
  std::vector<char> buf(2 * (IOV_MAX + 1));
  std::vector<iovec> iov(IOV_MAX + 1);
  for (size_t i = 0; i < iov.size(); i++) iov[i] = {buf.data() + 2 * i, 1};  // gaps: none runs on
  IoRequest req{.iov = iov.data()};
  req.iov_cnt = IOV_MAX - 1;
  EXPECT_TRUE(fits_iov_max(req, iov.data() + IOV_MAX - 1, 1));
  EXPECT_FALSE(fits_iov_max(req, iov.data() + IOV_MAX - 1, 2));
  iov[IOV_MAX - 1] = {buf.data() + 2 * (IOV_MAX - 2) + 1, 1};  // runs on from iov[IOV_MAX - 2]
  EXPECT_TRUE(fits_iov_max(req, iov.data() + IOV_MAX - 1, 2));
}

TEST(IoSplitTest, IoInsideOneRegionIsOnePiece) {
  EXPECT_EQ(split(65536, 4096, 8192), (std::vector<Piece>{{0, 4096, 8192}}));
}

TEST(IoSplitTest, WriteSpanningTwoRegionsBecomesTwoPieces) {
  EXPECT_EQ(split(65536, 61440, 8192), (std::vector<Piece>{{0, 61440, 4096}, {1, 65536, 4096}}));
}

TEST(IoSplitTest, NonPowerOfTwoRegionsSplitExactly) {
  EXPECT_EQ(split(1536, 1024, 4096),
            (std::vector<Piece>{{0, 1024, 512}, {1, 1536, 1536}, {2, 3072, 1536}, {3, 4608, 512}}));
}

TEST(IoSplitTest, EmptyIoHasNoPieces) { EXPECT_TRUE(split(512, 0, 0).empty()); }

TEST(IovecCursorTest, SlicesAcrossIovecBoundaries) {
  char a[100], b[50];
  iovec iov[] = {{a, 100}, {b, 50}};
  IovecCursor cur(iov, 2);
  iovec out[4];
  ASSERT_EQ(cur.take(60, out, 4), 1u);
  EXPECT_EQ(out[0].iov_base, a);
  EXPECT_EQ(out[0].iov_len, 60u);
  ASSERT_EQ(cur.take(70, out, 4), 2u);
  EXPECT_EQ(out[0].iov_base, a + 60);
  EXPECT_EQ(out[0].iov_len, 40u);
  EXPECT_EQ(out[1].iov_base, b);
  EXPECT_EQ(out[1].iov_len, 30u);
  EXPECT_EQ(cur.take(21, out, 4), 0u) << "only 20 bytes are left";
}

TEST(IovecCursorTest, RefusesWhenOutOfRoom) {
  char a[10], b[10];
  iovec iov[] = {{a, 10}, {b, 10}};
  IovecCursor cur(iov, 2);
  iovec out[1];
  EXPECT_EQ(cur.take(20, out, 1), 0u);
}

TEST(FixedPoolTest, EmptyPoolAnswersNullAndRecycles) {
  FixedPool<int> pool(2, [](int& v, size_t i) { v = static_cast<int>(i); });
  int* a = pool.acquire();
  int* b = pool.acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.acquire(), nullptr);
  pool.release(a);
  EXPECT_EQ(pool.acquire(), a);
}

TEST(MpmcQueueTest, FullQueueRefusesAndKeepsOrder) {
  MpmcQueue<int> q(4);
  for (int i = 0; i < 4; i++) EXPECT_TRUE(q.push(i));
  EXPECT_FALSE(q.push(9));
  int v = -1;
  for (int i = 0; i < 4; i++) {
    ASSERT_TRUE(q.pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(q.pop(v));
}

}  // namespace
}  // namespace tcmu_switch
