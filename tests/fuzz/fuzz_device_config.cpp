// libFuzzer target: the device config file parser (device_config.h), a GLib
// key file naming the region size, mode, table, default mapping, engine and
// paths. Properties: no crash or leak; an error says which config it is
// about; an accepted config satisfies every rule the parser promises (at
// least one path, each an absolute device at a 512-byte aligned offset, a
// default path that exists, workers and region size in range).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "device_config.h"
#include "fuzz_check.h"
#include "rbd_spec.h"

using namespace tcmu_switch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = parse_device_config(text, "fuzz.conf", "/fuzz");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().message().find("fuzz.conf") != std::string::npos);
    return 0;
  }
  const DeviceConfig& c = config.value();
  FUZZ_CHECK(c.region_sectors >= 1);
  FUZZ_CHECK(c.nr_paths() >= 1 && c.nr_paths() <= kMaxPaths);
  FUZZ_CHECK(c.nr_workers >= 1 && c.nr_workers <= kMaxWorkers);
  FUZZ_CHECK(c.table_path.empty() || c.table_path.front() == '/');
  if (c.default_mapping.kind == DefaultMapping::Kind::kFixedPath) FUZZ_CHECK(c.default_mapping.path_nr < c.nr_paths());
  for (const PathConfig& p : c.paths) {
    // A file or block device by absolute path, or an RBD image whose name parses.
    if (is_rbd_device(p.device)) {
      FUZZ_CHECK(parse_rbd_spec(p.device).ok());
      FUZZ_CHECK(p.ceph_conf.empty() || p.ceph_conf.front() == '/');
    } else {
      FUZZ_CHECK(!p.device.empty() && p.device.front() == '/');
      FUZZ_CHECK(p.ceph_conf.empty() && p.ceph_id.empty());
    }
    FUZZ_CHECK(p.offset_bytes % kSectorBytes == 0);
    FUZZ_CHECK(!p.name.empty());
  }
  // The geometry for a 1 GiB LUN must be one the region table accepts.
  FUZZ_CHECK(c.geometry(uint64_t{1} << 30).validate().ok());
  return 0;
}
