#include "uevent.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <string>

#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;
using namespace std::string_literals;

// What the kernel sent when scsi_debug's last host was removed (6.1).
const std::string kRemoveSdc =
    "remove@/devices/pseudo_0/adapter0/host2/target2:0:0/2:0:0:0/block/sdc\0"
    "ACTION=remove\0DEVPATH=/devices/pseudo_0/adapter0/host2/target2:0:0/2:0:0:0/block/sdc\0"
    "SUBSYSTEM=block\0MAJOR=8\0MINOR=32\0DEVNAME=sdc\0DEVTYPE=disk\0DISKSEQ=5\0SEQNUM=2071\0"s;

TEST(UeventTest, ParsesABlockDeviceRemoval) {
  auto ev = parse_uevent(kRemoveSdc);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->action, "remove");
  EXPECT_EQ(ev->devpath, "/devices/pseudo_0/adapter0/host2/target2:0:0/2:0:0:0/block/sdc");
  EXPECT_EQ(ev->subsystem, "block");
  EXPECT_EQ(ev->devname, "sdc");
  ASSERT_TRUE(ev->has_devnum);
  EXPECT_EQ(ev->devnum, makedev(8, 32));
  EXPECT_EQ(ev->seqnum, 2071u);
  EXPECT_EQ(block_event(ev.value()), BlockEvent::kGone);
}

TEST(UeventTest, TakesDeviceMapperNameFromChange) {
  auto ev = parse_uevent("change@/devices/virtual/block/dm-2\0ACTION=change\0DEVPATH=/devices/virtual/block/dm-2\0"
                         "SUBSYSTEM=block\0DM_COOKIE=0\0MAJOR=253\0MINOR=2\0DEVNAME=dm-2\0DEVTYPE=disk\0"
                         "SEQNUM=9\0DM_NAME=mp2\0DM_UUID=\0"s);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->dm_name, "mp2");
  EXPECT_EQ(ev->devnum, makedev(253, 2));
  EXPECT_EQ(block_event(ev.value()), BlockEvent::kChanged);
}

TEST(UeventTest, ClassifiesActionsOfBlockDevicesOnly) {
  Uevent ev;
  ev.subsystem = "block";
  ev.has_devnum = true;
  ev.devnum = makedev(8, 16);
  for (const auto& [action, kind] : {std::pair{"remove", BlockEvent::kGone}, {"offline", BlockEvent::kGone},
                                     {"add", BlockEvent::kBack}, {"online", BlockEvent::kBack},
                                     {"change", BlockEvent::kChanged}, {"bind", BlockEvent::kNone},
                                     {"move", BlockEvent::kNone}}) {
    ev.action = action;
    EXPECT_EQ(block_event(ev), kind) << action;
  }
  ev.action = "remove";
  ev.subsystem = "scsi_device";
  EXPECT_EQ(block_event(ev), BlockEvent::kNone) << "a SCSI device's removal names no block device";
  ev.subsystem = "block";
  ev.has_devnum = false;
  EXPECT_EQ(block_event(ev), BlockEvent::kNone) << "no device number: nothing to match";
}

TEST(UeventTest, AcceptsAMessageWithoutTrailingNul) {
  auto ev = parse_uevent("add@/devices/virtual/block/loop0\0SUBSYSTEM=block\0MAJOR=7\0MINOR=0"s);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->devnum, makedev(7, 0));
  EXPECT_EQ(block_event(ev.value()), BlockEvent::kBack);
}

TEST(UeventTest, RejectsAHeaderWithoutAt) {
  auto ev = parse_uevent("libudev\0SUBSYSTEM=block\0"s);
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(mentions(ev.status().message(), "\"libudev\" is not ACTION@DEVPATH"));
  EXPECT_FALSE(parse_uevent("@/devices/x\0"s).ok()) << "an empty action";
}

TEST(UeventTest, RejectsAFieldWithoutEquals) {
  auto ev = parse_uevent("remove@/d\0SUBSYSTEM=block\0GARBAGE\0"s);
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(mentions(ev.status().message(), "\"GARBAGE\" is not KEY=VALUE"));
}

TEST(UeventTest, RejectsABadDeviceNumber) {
  auto ev = parse_uevent("remove@/d\0MAJOR=8x\0MINOR=0\0"s);
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(mentions(ev.status().message(), "MAJOR=\"8x\" is not an unsigned integer"));
  ev = parse_uevent("remove@/d\0MAJOR=4096\0MINOR=0\0"s);
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(mentions(ev.status().message(), "4096:0 is beyond the kernel's 12:20 bits"));
  ev = parse_uevent("remove@/d\0MAJOR=8\0"s);
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(mentions(ev.status().message(), "MAJOR or MINOR without the other"));
}

}  // namespace
}  // namespace tcmu_switch
