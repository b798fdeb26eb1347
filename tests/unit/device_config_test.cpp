#include "device_config.h"

#include <gtest/gtest.h>

#include "path.h"
#include "rbd_spec.h"
#include "test_support.h"

namespace tcmu_switch {
namespace {

using test_support::mentions;

constexpr char kGood[] = R"(
[device]
region_sectors = 128
mode = multipath
table = lun0.table
default = path:2
engine = sync
workers = 3
[path.0]
device = /dev/ram0
[path.1]
device = /dev/ram1
offset = 1048576
name = right
[path.2]
device = /srv/lun0.img
)";

Result<DeviceConfig> parse(const std::string& text) { return parse_device_config(text, "t.conf", "/etc/ts"); }

std::string error_of(const std::string& text) {
  auto c = parse(text);
  EXPECT_FALSE(c.ok());
  return c.status().message();
}

TEST(DeviceConfigTest, ParsesEveryKey) {
  auto c = parse(kGood);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->region_sectors, 128u);
  EXPECT_EQ(c->mode, Mode::kMultipath);
  EXPECT_EQ(c->table_path, "/etc/ts/lun0.table");
  EXPECT_EQ(c->default_mapping, DefaultMapping::fixed(2));
  EXPECT_EQ(c->engine, EngineKind::kSync);
  EXPECT_EQ(c->nr_workers, 3u);
  ASSERT_EQ(c->nr_paths(), 3u);
  EXPECT_EQ(c->paths[1].offset_bytes, 1048576u);
  EXPECT_EQ(c->paths[1].name, "right");
  EXPECT_EQ(c->paths[0].name, "path0");
  EXPECT_EQ(c->geometry(1 << 20).nr_regions, 16u);
}

TEST(DeviceConfigTest, DefaultsArePlacementRoundRobinAuto) {
  auto c = parse("[device]\nregion_sectors=7\n[path.0]\ndevice=/x\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->mode, Mode::kPlacement);
  EXPECT_EQ(c->default_mapping, DefaultMapping::round_robin());
  EXPECT_EQ(c->engine, EngineKind::kAuto);
  EXPECT_TRUE(c->table_path.empty());
}

TEST(DeviceConfigTest, RejectsUnknownKeyNamingIt) {
  EXPECT_EQ(error_of("[device]\nregion_sectors=8\nregoin=1\n[path.0]\ndevice=/x\n"),
            "config t.conf: [device]: unknown key \"regoin\"");
}

TEST(DeviceConfigTest, RejectsUnknownGroup) {
  EXPECT_EQ(error_of("[device]\nregion_sectors=8\n[paths.0]\ndevice=/x\n"),
            "config t.conf: unknown group [paths.0]");
}

TEST(DeviceConfigTest, RejectsGapInPathNumbers) {
  EXPECT_NE(error_of("[device]\nregion_sectors=8\n[path.0]\ndevice=/x\n[path.2]\ndevice=/y\n")
                .find("without gaps, found [path.2]"),
            std::string::npos);
}

TEST(DeviceConfigTest, RejectsBadValuesNamingKeyAndValue) {
  EXPECT_NE(error_of("[device]\nregion_sectors=0\n[path.0]\ndevice=/x\n").find("region_sectors is 0"), std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=12x\n[path.0]\ndevice=/x\n").find("\"12x\" is not an unsigned integer"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\nmode=fast\n[path.0]\ndevice=/x\n").find("mode \"fast\""),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\ndefault=path:1\n[path.0]\ndevice=/x\n")
                .find("default path:1 >= nr_paths 1"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\n[path.0]\ndevice=rel/x\n").find("not an absolute path"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\n[path.0]\ndevice=/x\noffset=100\n").find("not a multiple of 512"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\nworkers=0\n[path.0]\ndevice=/x\n").find("workers 0 is not in 1..64"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\n").find("at least one path"), std::string::npos);
  for (const char* interval : {"9", "3600001"})
    EXPECT_NE(error_of(std::string("[device]\nregion_sectors=8\nprobe_interval_ms=") + interval +
                       "\n[path.0]\ndevice=/x\n")
                  .find(std::string("probe_interval_ms ") + interval + " is not in 10..3600000"),
              std::string::npos);
  // Found by fuzz_device_config: an empty label named the path "" in logs and stats.
  EXPECT_NE(error_of("[device]\nregion_sectors=8\n[path.0]\ndevice=/x\nname=\n").find("[path.0] name is empty"),
            std::string::npos);
  EXPECT_NE(error_of("region_sectors=8").find("config t.conf:"), std::string::npos);
}

TEST(DeviceConfigTest, PersistIsOffByDefaultAndNeedsATableFile) {
  EXPECT_FALSE(parse("[device]\nregion_sectors=8\ntable=t\n[path.0]\ndevice=/x\n")->persist);
  auto on = parse("[device]\nregion_sectors=8\ntable=t\npersist=true\n[path.0]\ndevice=/x\n");
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->persist);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\npersist=true\n[path.0]\ndevice=/x\n").find("needs a table file"),
            std::string::npos);
  EXPECT_NE(error_of("[device]\nregion_sectors=8\ntable=t\npersist=yes\n[path.0]\ndevice=/x\n")
                .find("persist \"yes\" is neither true nor false"),
            std::string::npos);
}

// 2^55 sectors made region_bytes wrap to 0 and DeviceConfig::geometry()
// divide by zero (UBSan in fuzz_device_config; seed region_bytes_overflow.conf).
TEST(DeviceConfigTest, RejectsRegionSectorsWhoseByteSizeOverflows) {
  EXPECT_NE(error_of("[device]\nregion_sectors=36028797018963968\n[path.0]\ndevice=/x\n")
                .find("region_sectors 36028797018963968 > 36028797018963967"),
            std::string::npos);
  auto c = parse("[device]\nregion_sectors=36028797018963967\n[path.0]\ndevice=/x\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c.value().geometry(uint64_t{1} << 30).nr_regions, 1u);
}

TEST(DeviceConfigTest, LoadReportsMissingFile) {
  auto c = load_device_config("/nonexistent/x.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/x.conf"), std::string::npos);
}

// Each name is parsed by the function pair that formats it.
TEST(DeviceConfigTest, RbdPathsTakeCephConfAndId) {
  auto c = parse("[device]\nregion_sectors = 8\n[path.0]\ndevice = rbd:ssd/lun0\nceph_conf = ceph.conf\n"
                 "ceph_id = tcmu\n[path.1]\ndevice = rbd:hdd/tenant1/lun0\n[path.2]\ndevice = /srv/x.img\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->paths[0].device, "rbd:ssd/lun0");
  EXPECT_EQ(c->paths[0].ceph_conf, "/etc/ts/ceph.conf") << "relative to the config file";
  EXPECT_EQ(c->paths[0].ceph_id, "tcmu");
  EXPECT_EQ(c->paths[1].ceph_conf, "") << "librados's own search";
}

TEST(DeviceConfigTest, RejectsCephKeysOnFilesAndBadRbdNames) {
  const char* head = "[device]\nregion_sectors = 8\n[path.0]\n";
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = /dev/sdb\nceph_id = admin\n"),
                       "[path.0] ceph_id applies to rbd: devices only, not \"/dev/sdb\""));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:ssd/lun0\nceph_conf =\n"),
                       "[path.0] ceph_conf is empty"));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:lun0\n"),
                       "[path.0]: device \"rbd:lun0\" is not rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE"));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:a/b/c/d\n"), "is not rbd:POOL/IMAGE"));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:ssd//lun0\n"),
                       "has an empty pool, namespace or image name"));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:ssd/lun0@snap\n"),
                       "names a snapshot: a path must be writable"));
  EXPECT_TRUE(mentions(error_of(std::string(head) + "device = rbd:ssd/lun0\nceph_keyring = k\n"),
                       "unknown key \"ceph_keyring\""));
}

TEST(RbdSpecTest, SplitsPoolNamespaceAndImage) {
  auto s = parse_rbd_spec("rbd:hdd/tenant1/lun0");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->pool, "hdd");
  EXPECT_EQ(s->ns, "tenant1");
  EXPECT_EQ(s->image, "lun0");
  s = parse_rbd_spec("rbd:ssd/lun0");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->ns, "");
  EXPECT_FALSE(is_rbd_device("/dev/rbd0"));
}

TEST(NamesTest, EveryNameParsesBackToItsValue) {
  for (Mode m : {Mode::kPlacement, Mode::kMultipath}) EXPECT_EQ(parse_mode(mode_name(m)).value(), m);
  for (EngineKind e : {EngineKind::kAuto, EngineKind::kIoUring, EngineKind::kSync})
    EXPECT_EQ(parse_engine(engine_name(e)).value(), e);
  for (PathState p : {PathState::kHealthy, PathState::kFailed, PathState::kDisabled})
    EXPECT_EQ(parse_path_state(path_state_name(p)).value(), p);
  for (DefaultMapping d : {DefaultMapping::round_robin(), DefaultMapping::fixed(0), DefaultMapping::fixed(255)})
    EXPECT_EQ(parse_default_mapping(default_mapping_name(d)).value(), d);
  EXPECT_EQ(default_mapping_name(DefaultMapping::fixed(7)), "path:7");
}

TEST(NamesTest, UnknownNamesAreRefusedNamingTheInputAndTheChoices) {
  const struct {
    Status status;
    const char* substring;
  } cases[] = {
      {parse_mode("mirror").status(), "\"mirror\" is not placement or multipath"},
      {parse_engine("aio").status(), "\"aio\" is not auto, io_uring or sync"},
      {parse_path_state("sleepy").status(), "path state \"sleepy\" is not healthy, failed or disabled"},
      {parse_default_mapping("sideways").status(), "\"sideways\" is not round-robin or path:N"},
      {parse_default_mapping("path:x").status(), "\"x\" is not a decimal path number"},
      {parse_default_mapping("path:").status(), "\"\" is not a decimal path number"},
      {parse_default_mapping("path:256").status(), "path 256 >= kMaxPaths 256"},
  };
  for (const auto& c : cases) {
    ASSERT_FALSE(c.status.ok()) << c.substring;
    EXPECT_NE(c.status.message().find(c.substring), std::string::npos) << c.status.message();
  }
}

}  // namespace
}  // namespace tcmu_switch
