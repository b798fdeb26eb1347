#include "device_config.h"

#include <glib.h>

#include <charconv>
#include <memory>
#include <set>

#include "enum_names.h"
#include "rbd_spec.h"

namespace tcmu_switch {
namespace {

constexpr EnumName<Mode> kModeNames[] = {{Mode::kPlacement, "placement"}, {Mode::kMultipath, "multipath"}};
constexpr EnumName<EngineKind> kEngineNames[] = {
    {EngineKind::kAuto, "auto"}, {EngineKind::kIoUring, "io_uring"}, {EngineKind::kSync, "sync"}};

constexpr std::string_view kDeviceGroup = "device";
constexpr std::string_view kPathGroupPrefix = "path.";
const std::set<std::string, std::less<>> kDeviceKeys = {
    "region_sectors", "mode", "table", "persist", "default", "engine", "workers", "probe_interval_ms"};
const std::set<std::string, std::less<>> kPathKeys = {"device", "offset", "name", "ceph_conf", "ceph_id"};
constexpr uint64_t kMaxRegionSectors = UINT64_MAX / kSectorBytes;

struct GFreeDeleter {
  void operator()(void* p) const { g_free(p); }
};
struct StrvDeleter {
  void operator()(gchar** p) const { g_strfreev(p); }
};
struct KeyFileDeleter {
  void operator()(GKeyFile* k) const { g_key_file_free(k); }
};
using KeyFilePtr = std::unique_ptr<GKeyFile, KeyFileDeleter>;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<uint64_t> parse_u64(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    return Status::error(std::string(what) + " " + quoted(text) + " is not an unsigned integer");
  return value;
}

// An unsigned integer in min..max; the error names what, the value and the range.
Result<uint32_t> parse_u32_in(std::string_view text, std::string_view what, uint32_t min, uint32_t max) {
  auto n = parse_u64(text, what);
  if (!n.ok()) return n.status();
  if (n.value() < min || n.value() > max)
    return Status::error(std::string(what) + " " + std::to_string(n.value()) + " is not in " + std::to_string(min) +
                         ".." + std::to_string(max));
  return static_cast<uint32_t>(n.value());
}

// The raw string of an optional key; nullopt-like empty unique_ptr if absent.
std::unique_ptr<char, GFreeDeleter> get_raw(GKeyFile* kf, const std::string& group, const char* key) {
  char* v = g_key_file_get_value(kf, group.c_str(), key, nullptr);
  if (v != nullptr) g_strstrip(v);
  return std::unique_ptr<char, GFreeDeleter>(v);
}

Status check_keys(GKeyFile* kf, const std::string& group, const std::set<std::string, std::less<>>& allowed) {
  std::unique_ptr<gchar*, StrvDeleter> keys(g_key_file_get_keys(kf, group.c_str(), nullptr, nullptr));
  for (gchar** k = keys.get(); k != nullptr && *k != nullptr; k++)
    if (!allowed.contains(*k))
      return Status::error("[" + group + "]: unknown key " + quoted(*k));
  return {};
}

// Parses the value of [device] `key` into out; an error names the key.
template <typename T>
Status parse_key(Result<T> (*parse)(std::string_view), const char* key, std::string_view text, T& out) {
  Result<T> v = parse(text);
  if (!v.ok()) return Status::error(std::string("[device] ") + key + " " + v.status().message());
  out = v.value();
  return {};
}

std::string resolve(const std::string& base_dir, std::string_view path) {
  if (path.starts_with('/')) return std::string(path);
  return base_dir + "/" + std::string(path);
}

Status parse_device_group(GKeyFile* kf, const std::string& base_dir, DeviceConfig& cfg) {
  const std::string group(kDeviceGroup);
  if (!g_key_file_has_group(kf, group.c_str())) return Status::error("missing [device] group");
  if (Status s = check_keys(kf, group, kDeviceKeys); !s.ok()) return s;

  auto region = get_raw(kf, group, "region_sectors");
  if (!region) return Status::error("[device]: missing region_sectors");
  auto sectors = parse_u64(region.get(), "[device] region_sectors");
  if (!sectors.ok()) return sectors.status();
  if (sectors.value() == 0) return Status::error("[device] region_sectors is 0");
  // Every size and offset is computed in bytes, in 64 bits.
  if (sectors.value() > kMaxRegionSectors)
    return Status::error("[device] region_sectors " + std::to_string(sectors.value()) + " > " +
                         std::to_string(kMaxRegionSectors) + ": the region size in bytes overflows 64 bits");
  cfg.region_sectors = sectors.value();

  if (auto v = get_raw(kf, group, "mode"))
    if (Status s = parse_key(parse_mode, "mode", v.get(), cfg.mode); !s.ok()) return s;
  if (auto v = get_raw(kf, group, "engine"))
    if (Status s = parse_key(parse_engine, "engine", v.get(), cfg.engine); !s.ok()) return s;
  if (auto v = get_raw(kf, group, "default"))
    if (Status s = parse_key(parse_default_mapping, "default", v.get(), cfg.default_mapping); !s.ok()) return s;
  if (auto v = get_raw(kf, group, "table")) {
    if (*v.get() == '\0') return Status::error("[device] table is empty");
    cfg.table_path = resolve(base_dir, v.get());
  }
  if (auto v = get_raw(kf, group, "persist")) {
    const std::string_view text = v.get();
    if (text != "true" && text != "false")
      return Status::error("[device] persist " + quoted(text) + " is neither true nor false");
    cfg.persist = text == "true";
    if (cfg.persist && cfg.table_path.empty())
      return Status::error("[device] persist = true needs a table file to write to (table = FILE)");
  }
  if (auto v = get_raw(kf, group, "workers")) {
    auto n = parse_u32_in(v.get(), "[device] workers", 1, kMaxWorkers);
    if (!n.ok()) return n.status();
    cfg.nr_workers = n.value();
  }
  if (auto v = get_raw(kf, group, "probe_interval_ms")) {
    auto n = parse_u32_in(v.get(), "[device] probe_interval_ms", kMinProbeIntervalMs, kMaxProbeIntervalMs);
    if (!n.ok()) return n.status();
    cfg.probe_interval_ms = n.value();
  }
  return {};
}

// ceph_conf and ceph_id, which only an rbd: device takes.
Status parse_ceph_keys(GKeyFile* kf, const std::string& group, const std::string& base_dir, PathConfig& path) {
  const std::pair<const char*, std::string PathConfig::*> keys[] = {{"ceph_conf", &PathConfig::ceph_conf},
                                                                    {"ceph_id", &PathConfig::ceph_id}};
  for (auto [key, field] : keys) {
    auto v = get_raw(kf, group, key);
    if (!v) continue;
    if (!is_rbd_device(path.device))
      return Status::error("[" + group + "] " + key + " applies to rbd: devices only, not " + quoted(path.device));
    if (*v.get() == '\0')
      return Status::error("[" + group + "] " + key + " is empty (leave it out for librados's default)");
    path.*field = v.get();
  }
  if (!path.ceph_conf.empty()) path.ceph_conf = resolve(base_dir, path.ceph_conf);
  return {};
}

Result<PathConfig> parse_path_group(GKeyFile* kf, const std::string& group, uint32_t path_nr,
                                    const std::string& base_dir) {
  if (Status s = check_keys(kf, group, kPathKeys); !s.ok()) return s;
  PathConfig path;
  auto device = get_raw(kf, group, "device");
  if (!device || *device.get() == '\0') return Status::error("[" + group + "]: missing device");
  path.device = device.get();
  if (is_rbd_device(path.device)) {
    if (auto spec = parse_rbd_spec(path.device); !spec.ok()) return spec.status().with_context("[" + group + "]");
  } else if (*device.get() != '/') {
    return Status::error("[" + group + "] device " + quoted(device.get()) + " is not an absolute path");
  }
  if (Status s = parse_ceph_keys(kf, group, base_dir, path); !s.ok()) return s;
  if (auto v = get_raw(kf, group, "offset")) {
    auto n = parse_u64(v.get(), "[" + group + "] offset");
    if (!n.ok()) return n.status();
    if (n.value() % kSectorBytes != 0)
      return Status::error("[" + group + "] offset " + std::to_string(n.value()) + " is not a multiple of 512");
    path.offset_bytes = n.value();
  }
  auto name = get_raw(kf, group, "name");
  if (name && *name.get() == '\0') return Status::error("[" + group + "] name is empty (leave it out for \"path" + std::to_string(path_nr) + "\")");
  path.name = name ? std::string(name.get()) : "path" + std::to_string(path_nr);
  return path;
}

// Groups must be [device] and [path.0] .. [path.N-1]; returns N.
Result<uint32_t> count_path_groups(GKeyFile* kf) {
  std::unique_ptr<gchar*, StrvDeleter> groups(g_key_file_get_groups(kf, nullptr));
  std::set<uint64_t> numbers;
  for (gchar** g = groups.get(); *g != nullptr; g++) {
    std::string_view name(*g);
    if (name == kDeviceGroup) continue;
    if (!name.starts_with(kPathGroupPrefix)) return Status::error("unknown group [" + std::string(name) + "]");
    auto n = parse_u64(name.substr(kPathGroupPrefix.size()), "group [" + std::string(name) + "]: path number");
    if (!n.ok()) return n.status();
    numbers.insert(n.value());
  }
  if (numbers.empty()) return Status::error("no [path.N] groups: at least one path is needed");
  if (numbers.size() > kMaxPaths) return Status::error(std::to_string(numbers.size()) + " paths > " + std::to_string(kMaxPaths));
  if (*numbers.rbegin() != numbers.size() - 1)
    return Status::error("path groups must be numbered 0.." + std::to_string(numbers.size() - 1) +
                         " without gaps, found [path." + std::to_string(*numbers.rbegin()) + "]");
  return static_cast<uint32_t>(numbers.size());
}

}  // namespace

const char* mode_name(Mode mode) { return enum_name(kModeNames, mode); }
Result<Mode> parse_mode(std::string_view text) { return parse_enum(kModeNames, text); }
const char* engine_name(EngineKind kind) { return enum_name(kEngineNames, kind); }
Result<EngineKind> parse_engine(std::string_view text) { return parse_enum(kEngineNames, text); }

TableGeometry DeviceConfig::geometry(uint64_t size_bytes) const {
  return {nr_paths(), region_sectors, regions_for_size(size_bytes, region_sectors), default_mapping};
}

Result<DeviceConfig> parse_device_config(std::string_view text, const std::string& source,
                                         const std::string& base_dir) {
  KeyFilePtr kf(g_key_file_new());
  GError* err = nullptr;
  if (!g_key_file_load_from_data(kf.get(), text.data(), text.size(), G_KEY_FILE_NONE, &err)) {
    Status s = Status::error(std::string("config ") + source + ": " + err->message);
    g_error_free(err);
    return s;
  }
  DeviceConfig cfg;
  cfg.source = source;
  auto fail = [&](const Status& s) { return s.with_context("config " + source); };
  if (Status s = parse_device_group(kf.get(), base_dir, cfg); !s.ok()) return fail(s);
  auto nr_paths = count_path_groups(kf.get());
  if (!nr_paths.ok()) return fail(nr_paths.status());
  for (uint32_t i = 0; i < nr_paths.value(); i++) {
    auto path = parse_path_group(kf.get(), std::string(kPathGroupPrefix) + std::to_string(i), i, base_dir);
    if (!path.ok()) return fail(path.status());
    cfg.paths.push_back(std::move(path).value());
  }
  if (cfg.default_mapping.kind == DefaultMapping::Kind::kFixedPath &&
      cfg.default_mapping.path_nr >= cfg.nr_paths())
    return fail(Status::error("[device] default " + default_mapping_name(cfg.default_mapping) + " >= nr_paths " +
                              std::to_string(cfg.nr_paths())));
  return cfg;
}

Result<DeviceConfig> load_device_config(const std::string& path) {
  gchar* contents = nullptr;
  gsize len = 0;
  GError* err = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &len, &err)) {
    Status s = Status::error("config " + path + ": " + err->message);
    g_error_free(err);
    return s;
  }
  std::unique_ptr<char, GFreeDeleter> owned(contents);
  std::unique_ptr<char, GFreeDeleter> dir(g_path_get_dirname(path.c_str()));
  return parse_device_config(std::string_view(contents, len), path, dir.get());
}

}  // namespace tcmu_switch
