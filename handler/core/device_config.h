// DeviceConfig: a switch LUN's configuration file (GLib key file). The
// cfgstring that names the file is the plugin's (handler/plugin/cfgstring.h).
//
//   [device]
//   region_sectors = 128          region size in 512-byte sectors (any value >= 1)
//   mode = placement              placement: each path holds its own regions, never fail over
//                                 multipath: all paths reach the same storage, fail over on error
//   table = lun0.table            optional; dm-switch text or binary; relative to this file
//   persist = false               true: a live table change (D-Bus) rewrites the table file,
//                                 atomically, before it is acknowledged (needs table)
//   default = round-robin         round-robin | path:N   (regions the table leaves alone)
//   engine = auto                 auto | io_uring | sync
//   workers = 2                   I/O worker threads (1..64) of the engine it
//                                 shares with LUNs asking the same (io_engine.h)
//   probe_interval_ms = 1000      multipath: how often a failed path is retried (10..3600000)
//
//   [path.0] ... [path.N-1]       one group per path, numbered from 0 without gaps
//   device = /dev/sdb             block device or regular file, or an RBD image:
//                                 rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE (rbd_spec.h)
//   offset = 0                    bytes; LUN byte X lives at offset + X on the path
//   name = left                   optional label for logs and stats
//   ceph_conf = /etc/ceph/x.conf  rbd: only; the cluster's config (default: librados's
//                                 search, $CEPH_CONF then /etc/ceph/ceph.conf); relative to this file
//   ceph_id = admin               rbd: only; the client name without "client." (the keyring
//                                 is found the usual ways, from the config)
//
// Unknown groups and keys are errors: a typo must not silently change routing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "region_table.h"
#include "status.h"

namespace tcmu_switch {

enum class Mode : uint8_t { kPlacement, kMultipath };
enum class EngineKind : uint8_t { kAuto, kIoUring, kSync };

// The config file's names ("placement", "io_uring", ...), also used on D-Bus.
// A parse error names the text and the accepted names.
const char* mode_name(Mode mode);
Result<Mode> parse_mode(std::string_view text);
const char* engine_name(EngineKind kind);
Result<EngineKind> parse_engine(std::string_view text);

struct PathConfig {
  std::string device;
  uint64_t offset_bytes = 0;
  std::string name;  // defaults to "path<N>"
  std::string ceph_conf = {};  // rbd: paths; empty: librados's default search
  std::string ceph_id = {};    // rbd: paths; empty: librados's default ("admin")
  bool operator==(const PathConfig&) const = default;
};

struct DeviceConfig {
  std::string source;      // the file it was read from, for messages
  uint64_t region_sectors = 0;
  Mode mode = Mode::kPlacement;
  std::string table_path;  // absolute; empty: default mapping only
  bool persist = false;     // live table changes are written to table_path first
  DefaultMapping default_mapping;
  EngineKind engine = EngineKind::kAuto;
  uint32_t nr_workers = 2;
  uint32_t probe_interval_ms = 1000;
  std::vector<PathConfig> paths;

  uint32_t nr_paths() const { return static_cast<uint32_t>(paths.size()); }
  // Geometry of the table for a LUN of size_bytes.
  TableGeometry geometry(uint64_t size_bytes) const;
};

inline constexpr uint32_t kMaxWorkers = 64;
// The prober reads 4 KiB from each failed path per interval: at least 10 ms so
// a dead path is not polled in a busy loop, at most an hour, past which a
// failed path would in effect never come back without the administrator.
inline constexpr uint32_t kMinProbeIntervalMs = 10;
inline constexpr uint32_t kMaxProbeIntervalMs = 3600 * 1000;

// Parses key-file text; relative table paths resolve against base_dir.
Result<DeviceConfig> parse_device_config(std::string_view text, const std::string& source,
                                         const std::string& base_dir);
Result<DeviceConfig> load_device_config(const std::string& path);

}  // namespace tcmu_switch
