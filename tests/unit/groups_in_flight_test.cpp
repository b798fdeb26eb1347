// GroupsInFlight against a plain model: the fewest requests any command has
// in flight, capped at kTracked, through random issues and reaps.
#include "groups_in_flight.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace tcmu_switch {
namespace {

TEST(GroupsInFlightTest, NothingInFlightNeedsNoCompletion) {
  GroupsInFlight groups;
  EXPECT_EQ(groups.fewest_left(), 0u);
}

TEST(GroupsInFlightTest, TheCommandClosestToItsEndSetsTheCount) {
  GroupsInFlight groups;
  IoGroup big, small;
  for (int i = 0; i < 4; i++) groups.issued(&big);
  EXPECT_EQ(groups.fewest_left(), 4u);
  groups.issued(&small);
  groups.issued(&small);
  EXPECT_EQ(groups.fewest_left(), 2u);
  groups.reaped(&big);
  groups.reaped(&big);
  groups.reaped(&big);
  EXPECT_EQ(groups.fewest_left(), 1u);
  groups.reaped(&big);
  EXPECT_EQ(groups.fewest_left(), 2u) << "the finished command no longer counts";
  EXPECT_EQ(big.in_flight, 0u);
}

TEST(GroupsInFlightTest, ARequestWithoutAGroupIsACommandOfOne) {
  GroupsInFlight groups;
  IoGroup four;
  for (int i = 0; i < 4; i++) groups.issued(&four);
  groups.issued(nullptr);
  EXPECT_EQ(groups.fewest_left(), 1u);
  groups.reaped(nullptr);
  EXPECT_EQ(groups.fewest_left(), 4u);
}

TEST(GroupsInFlightTest, ACommandWithMoreThanTheTrackedCountNeedsAtLeastThatMany) {
  GroupsInFlight groups;
  IoGroup huge;
  const uint32_t n = GroupsInFlight::kTracked + 10;
  for (uint32_t i = 0; i < n; i++) groups.issued(&huge);
  EXPECT_EQ(groups.fewest_left(), GroupsInFlight::kTracked);
  for (uint32_t i = 0; i < 10; i++) groups.reaped(&huge);
  EXPECT_EQ(groups.fewest_left(), GroupsInFlight::kTracked);
  groups.reaped(&huge);
  EXPECT_EQ(groups.fewest_left(), GroupsInFlight::kTracked - 1);
}

TEST(GroupsInFlightTest, MatchesAModelThroughRandomIssuesAndReaps) {
  constexpr int kCommands = 40;
  std::vector<IoGroup> commands(kCommands);
  GroupsInFlight groups;
  std::mt19937 rng(7);
  for (int step = 0; step < 200000; step++) {
    IoGroup& g = commands[rng() % kCommands];
    // Commands grow to about 100 pieces and shrink to nothing, so both the
    // tracked buckets and the capped one are crossed in both directions.
    if (g.in_flight == 0 || (g.in_flight < 100 && rng() % 2 == 0)) {
      groups.issued(&g);
    } else {
      groups.reaped(&g);
    }
    uint32_t fewest = 0;
    for (const IoGroup& c : commands) {
      if (c.in_flight > 0) fewest = fewest == 0 ? c.in_flight : std::min(fewest, c.in_flight);
    }
    ASSERT_EQ(groups.fewest_left(), std::min(fewest, GroupsInFlight::kTracked)) << "step " << step;
  }
}

}  // namespace
}  // namespace tcmu_switch
