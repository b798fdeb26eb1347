#include "device_object.h"

#include <atomic>
#include <fstream>
#include <string_view>

#include "device_naming.h"
#include "path.h"
#include "table_binary.h"
#include "table_file.h"
#include "table_text.h"

namespace tcmu_switch::control {
namespace {

// Path numbers and regions are D-Bus integers; generations are returned by
// every method that publishes one, so a caller can tell its change apart
// from a concurrent dev_config reload.
constexpr char kIntrospectionXml[] = R"(
<node>
  <interface name="org.tcmuswitch.Device1">
    <method name="LoadTable">
      <arg name="table" type="ay" direction="in"/>
      <arg name="generation" type="t" direction="out"/>
    </method>
    <method name="SetRegionMappings">
      <arg name="mappings" type="s" direction="in"/>
      <arg name="generation" type="t" direction="out"/>
    </method>
    <method name="GetTable">
      <arg name="table" type="ay" direction="out"/>
    </method>
    <method name="GetTableText">
      <arg name="expand" type="b" direction="in"/>
      <arg name="text" type="s" direction="out"/>
    </method>
    <method name="GetRegions">
      <arg name="first_region" type="t" direction="in"/>
      <arg name="nr_regions" type="t" direction="in"/>
      <arg name="path_nrs" type="ay" direction="out"/>
    </method>
    <method name="GetRegionIo">
      <arg name="bucket_shift" type="u" direction="out"/>
      <arg name="ios" type="at" direction="out"/>
    </method>
    <method name="GetSummary">
      <arg name="summary" type="a{sv}" direction="out"/>
    </method>
    <method name="GetPathState">
      <arg name="path_nr" type="u" direction="in"/>
      <arg name="state" type="s" direction="out"/>
    </method>
    <method name="SetPathState">
      <arg name="path_nr" type="u" direction="in"/>
      <arg name="state" type="s" direction="in"/>
    </method>
    <signal name="PathStateChanged">
      <arg name="path_nr" type="u"/>
      <arg name="state" type="s"/>
    </signal>
  </interface>
</node>
)";

GDBusInterfaceInfo* interface_info() {
  static GDBusNodeInfo* node = g_dbus_node_info_new_for_xml(kIntrospectionXml, nullptr);  // never freed: static
  return node->interfaces[0];
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<PathState> parse_path_state(std::string_view name) {
  for (const PathState s : {PathState::kHealthy, PathState::kFailed, PathState::kDisabled})
    if (name == path_state_name(s)) return s;
  return Status::error("path state " + quoted(name) + " is not healthy, failed or disabled");
}

std::string default_mapping_text(const DefaultMapping& mapping) {
  if (mapping.kind == DefaultMapping::Kind::kFixedPath) return "path:" + std::to_string(mapping.path_nr);
  return "round-robin";
}

GVariant* byte_array(const void* data, size_t len) {
  return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1);
}

std::string_view byte_array_view(GVariant* ay) {
  gsize len = 0;
  const void* data = g_variant_get_fixed_array(ay, &len, 1);
  return {static_cast<const char*>(data), len};
}

void add_entry(GVariantBuilder* dict, const char* key, GVariant* value) {
  g_variant_builder_add(dict, "{sv}", key, value);
}

GVariant* path_summary(uint32_t path_nr, const PathReport& path, uint64_t nr_regions) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  add_entry(&b, "path_nr", g_variant_new_uint32(path_nr));
  add_entry(&b, "name", g_variant_new_string(path.config.name.c_str()));
  add_entry(&b, "device", g_variant_new_string(path.config.device.c_str()));
  add_entry(&b, "offset_bytes", g_variant_new_uint64(path.config.offset_bytes));
  add_entry(&b, "state", g_variant_new_string(path_state_name(path.state)));
  add_entry(&b, "direct", g_variant_new_boolean(path.direct));
  add_entry(&b, "regions", g_variant_new_uint64(nr_regions));
  const PathStats& s = path.stats;
  add_entry(&b, "reads", g_variant_new_uint64(s.reads));
  add_entry(&b, "writes", g_variant_new_uint64(s.writes));
  add_entry(&b, "flushes", g_variant_new_uint64(s.flushes));
  add_entry(&b, "unmaps", g_variant_new_uint64(s.unmaps));
  add_entry(&b, "bytes_read", g_variant_new_uint64(s.bytes_read));
  add_entry(&b, "bytes_written", g_variant_new_uint64(s.bytes_written));
  add_entry(&b, "errors", g_variant_new_uint64(s.errors));
  add_entry(&b, "failovers", g_variant_new_uint64(s.failovers));
  add_entry(&b, "bounced", g_variant_new_uint64(s.bounced));
  return g_variant_builder_end(&b);
}

// A tuple reply; GDBus wants one even for a single value.
GVariant* reply(GVariant* value) { return g_variant_new_tuple(&value, 1); }

}  // namespace

bool method_changes_device(std::string_view method) {
  return method == "LoadTable" || method == "SetRegionMappings" || method == "SetPathState";
}

// Emits PathStateChanged. The device's listener holds it by shared_ptr, so a
// state change racing with unexport emits on a path that is just going away
// instead of touching a freed DeviceObject.
class DeviceObject::SignalEmitter {
 public:
  SignalEmitter(GDBusConnection* connection, std::string object_path)
      : connection_(G_DBUS_CONNECTION(g_object_ref(connection))), object_path_(std::move(object_path)) {}
  ~SignalEmitter() { g_object_unref(connection_); }
  SignalEmitter(const SignalEmitter&) = delete;
  SignalEmitter& operator=(const SignalEmitter&) = delete;

  void emit(uint32_t path_nr, PathState state) const noexcept {
    // Thread-safe in GDBus; a failure (bus gone) only loses the signal.
    g_dbus_connection_emit_signal(connection_, nullptr, object_path_.c_str(), kInterfaceName, "PathStateChanged",
                                  g_variant_new("(us)", path_nr, path_state_name(state)), nullptr);
  }

 private:
  GDBusConnection* connection_;
  std::string object_path_;
};

// One method call between its arrival and its reply.
struct DeviceObject::Call {
  DeviceObject* self;
  GDBusMethodInvocation* invocation;  // we answer it exactly once
  std::string method;
  uid_t caller_uid = static_cast<uid_t>(-1);  // known once the bus has told us
};

DeviceObject::DeviceObject(GDBusConnection* connection, const std::string& device_name, SwitchDevice& device,
                           Reporter& reporter, uid_t admin_uid)
    : connection_(G_DBUS_CONNECTION(g_object_ref(connection))),
      device_name_(device_name),
      object_path_(device_object_path(device_name)),
      device_(device),
      reporter_(reporter),
      admin_uid_(admin_uid),
      cancellable_(g_cancellable_new()) {}

Result<std::unique_ptr<DeviceObject>> DeviceObject::export_on(GDBusConnection* connection,
                                                              const std::string& device_name, SwitchDevice& device,
                                                              Reporter& reporter, uid_t admin_uid) {
  std::unique_ptr<DeviceObject> object(new DeviceObject(connection, device_name, device, reporter, admin_uid));
  static const GDBusInterfaceVTable vtable = {on_method_call, nullptr, nullptr, {}};
  GError* error = nullptr;
  object->registration_id_ = g_dbus_connection_register_object(connection, object->object_path_.c_str(),
                                                               interface_info(), &vtable, object.get(), nullptr,
                                                               &error);
  if (object->registration_id_ == 0) {
    Status s = Status::error("cannot export " + object->object_path_ + " on D-Bus: " + error->message);
    g_error_free(error);
    return s;
  }
  auto emitter = std::make_shared<const SignalEmitter>(connection, object->object_path_);
  device.set_path_state_listener([emitter](uint32_t path_nr, PathState state) { emitter->emit(path_nr, state); });
  return object;
}

DeviceObject::~DeviceObject() {
  device_.set_path_state_listener(nullptr);
  if (registration_id_ != 0) g_dbus_connection_unregister_object(connection_, registration_id_);
  g_cancellable_cancel(cancellable_);
  g_object_unref(cancellable_);
  g_object_unref(connection_);
}

void DeviceObject::on_method_call(GDBusConnection*, const gchar*, const gchar*, const gchar*,
                                  const gchar* method_name, GVariant*, GDBusMethodInvocation* invocation,
                                  gpointer user_data) noexcept {
  auto* self = static_cast<DeviceObject*>(user_data);
  try {
    auto call = std::make_unique<Call>(Call{self, invocation, method_name});
    if (method_changes_device(call->method)) {
      self->check_caller_then_dispatch(std::move(call));
    } else {
      self->dispatch(*call);
    }
  } catch (const std::exception& e) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_NO_MEMORY, "%s", e.what());
  }
}

// The peer credentials of a bus connection are the bus daemon's, so the
// caller's uid has to come from the bus itself. Asked asynchronously: the
// main loop also serves tcmu-runner's netlink requests.
void DeviceObject::check_caller_then_dispatch(std::unique_ptr<Call> call) {
  const char* sender = g_dbus_method_invocation_get_sender(call->invocation);
  g_dbus_connection_call(connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                         "GetConnectionUnixUser", g_variant_new("(s)", sender != nullptr ? sender : ""),
                         G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, cancellable_, on_caller_uid,
                         call.release());
}

void DeviceObject::on_caller_uid(GObject* source, GAsyncResult* result, gpointer user_data) noexcept {
  std::unique_ptr<Call> call(static_cast<Call*>(user_data));
  GError* error = nullptr;
  GVariant* uid_reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
  if (uid_reply == nullptr) {
    // Cancelled means the device is closed: call->self is gone, touch nothing.
    g_dbus_method_invocation_return_error(call->invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                          "%s refused: cannot identify the caller: %s", call->method.c_str(),
                                          error->message);
    g_error_free(error);
    return;
  }
  g_variant_get(uid_reply, "(u)", &call->caller_uid);
  g_variant_unref(uid_reply);
  DeviceObject* self = call->self;
  if (call->caller_uid != self->admin_uid_) {
    g_dbus_method_invocation_return_error(call->invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                          "%s changes switch device %s and needs uid %u; the caller is uid %u",
                                          call->method.c_str(), self->device_name_.c_str(), self->admin_uid_,
                                          call->caller_uid);
    return;
  }
  self->dispatch(*call);
}

void DeviceObject::dispatch(const Call& call) noexcept {
  GVariant* params = g_dbus_method_invocation_get_parameters(call.invocation);
  try {
    const std::string& m = call.method;
    Result<GVariant*> value = Status::error("method " + m + " has no handler");
    if (m == "LoadTable") value = load_table(params, call.caller_uid);
    else if (m == "SetRegionMappings") value = set_region_mappings(params, call.caller_uid);
    else if (m == "GetTable") value = get_table();
    else if (m == "GetTableText") value = get_table_text(params);
    else if (m == "GetRegions") value = get_regions(params);
    else if (m == "GetRegionIo") value = get_region_io();
    else if (m == "GetSummary") value = get_summary();
    else if (m == "GetPathState") value = get_path_state(params);
    else if (m == "SetPathState") value = set_path_state(params, call.caller_uid);
    if (value.ok()) {
      g_dbus_method_invocation_return_value(call.invocation, value.value());
    } else {
      g_dbus_method_invocation_return_error(call.invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s: %s",
                                            m.c_str(), value.status().message().c_str());
    }
  } catch (const std::exception& e) {
    g_dbus_method_invocation_return_error(call.invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "%s failed: %s",
                                          call.method.c_str(), e.what());
  }
}

// ---- the methods: decode, call the core, encode ----------------------------

Result<GVariant*> DeviceObject::published(Result<uint64_t> generation, const std::string& what, uid_t caller_uid) {
  if (!generation.ok()) return generation.status();
  reporter_.report(LogLevel::kInfo, what + " by uid " + std::to_string(caller_uid) + " over D-Bus: generation " +
                                        std::to_string(generation.value()));
  return reply(g_variant_new_uint64(generation.value()));
}

Result<GVariant*> DeviceObject::load_table(GVariant* parameters, uid_t caller_uid) {
  GVariant* bytes = g_variant_get_child_value(parameters, 0);
  auto table = load_table_bytes(byte_array_view(bytes), device_.geometry());
  g_variant_unref(bytes);
  if (!table.ok()) return table.status();
  return published(device_.publish_table(std::move(table).value()), "table loaded", caller_uid);
}

// Applied to a clone of the live table and published in one swap: a bad
// entry anywhere leaves the live table as it was.
Result<GVariant*> DeviceObject::set_region_mappings(GVariant* parameters, uid_t caller_uid) {
  const char* text = nullptr;
  g_variant_get(parameters, "(&s)", &text);
  auto table = device_.table_slot().clone_current();
  if (Status s = apply_text(text, *table); !s.ok()) return s;
  return published(device_.publish_table(std::move(table)), "region mappings set", caller_uid);
}

Result<GVariant*> DeviceObject::get_table() {
  const std::string bytes = encode_table_binary(*device_.table_slot().clone_current());
  return reply(byte_array(bytes.data(), bytes.size()));
}

Result<GVariant*> DeviceObject::get_table_text(GVariant* parameters) {
  gboolean expand = FALSE;
  g_variant_get(parameters, "(b)", &expand);
  TextFormatOptions options;
  options.expand = expand != FALSE;
  return reply(g_variant_new_string(format_table_text(*device_.table_slot().clone_current(), options).c_str()));
}

// One byte per region: kMaxPaths is 256, so every path_nr fits.
static_assert(kMaxPaths <= 256);

Result<GVariant*> DeviceObject::get_regions(GVariant* parameters) {
  guint64 first = 0, count = 0;
  g_variant_get(parameters, "(tt)", &first, &count);
  const auto table = device_.table_slot().clone_current();
  const uint64_t nr_regions = table->nr_regions();
  if (count > kMaxRegionsPerCall)
    return Status::error("nr_regions " + std::to_string(count) + " > " + std::to_string(kMaxRegionsPerCall) +
                         " per call");
  if (first > nr_regions || count > nr_regions - first)
    return Status::error("regions " + std::to_string(first) + " + " + std::to_string(count) + " > nr_regions " +
                         std::to_string(nr_regions));
  const std::vector<uint32_t> path_nrs = table->read_range(first, count);
  const std::vector<uint8_t> bytes(path_nrs.begin(), path_nrs.end());
  return reply(byte_array(bytes.data(), bytes.size()));
}

// ios[b] counts I/O pieces routed to regions [b << bucket_shift, (b + 1) << bucket_shift) since open.
Result<GVariant*> DeviceObject::get_region_io() {
  const RegionHistogram h = device_.region_histogram();
  return g_variant_new("(u@at)", h.bucket_shift,
                       g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, h.ios.data(), h.ios.size(), sizeof(uint64_t)));
}

Result<GVariant*> DeviceObject::get_summary() {
  const DeviceReport r = device_.report();
  const auto table = device_.table_slot().clone_current();
  const TableGeometry& g = table->geometry();
  const std::vector<uint64_t> regions = table->regions_per_path();
  GVariantBuilder paths;
  g_variant_builder_init(&paths, G_VARIANT_TYPE("aa{sv}"));
  for (uint32_t i = 0; i < r.paths.size(); i++)
    g_variant_builder_add_value(&paths, path_summary(i, r.paths[i], i < regions.size() ? regions[i] : 0));
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  add_entry(&b, "name", g_variant_new_string(device_name_.c_str()));
  add_entry(&b, "config", g_variant_new_string(r.config_source.c_str()));
  add_entry(&b, "table_file", g_variant_new_string(device_.config().table_path.c_str()));
  add_entry(&b, "mode", g_variant_new_string(mode_name(r.mode)));
  add_entry(&b, "engine", g_variant_new_string(engine_name(r.engine)));
  add_entry(&b, "nr_workers", g_variant_new_uint32(r.nr_workers));
  add_entry(&b, "size_bytes", g_variant_new_uint64(r.size_bytes));
  add_entry(&b, "generation", g_variant_new_uint64(r.generation));
  add_entry(&b, "nr_paths", g_variant_new_uint32(g.nr_paths));
  add_entry(&b, "region_sectors", g_variant_new_uint64(g.region_sectors));
  add_entry(&b, "nr_regions", g_variant_new_uint64(g.nr_regions));
  add_entry(&b, "default", g_variant_new_string(default_mapping_text(g.default_mapping).c_str()));
  add_entry(&b, "busy", g_variant_new_uint64(r.busy));
  add_entry(&b, "buffer_faults", g_variant_new_uint64(r.buffer_faults));
  add_entry(&b, "zc_mapped", g_variant_new_uint64(r.zc_mapped));
  add_entry(&b, "zc_mapped_nogup", g_variant_new_uint64(r.zc_mapped_nogup));
  add_entry(&b, "zc_copied", g_variant_new_uint64(r.zc_copied));
  add_entry(&b, "zc_page_cache_pieces", g_variant_new_uint64(r.zc_page_cache_pieces));
  add_entry(&b, "zc_direct_refused", g_variant_new_uint64(r.zc_direct_refused));
  add_entry(&b, "paths", g_variant_builder_end(&paths));
  return reply(g_variant_builder_end(&b));
}

Result<GVariant*> DeviceObject::get_path_state(GVariant* parameters) {
  guint32 path_nr = 0;
  g_variant_get(parameters, "(u)", &path_nr);
  const DeviceReport r = device_.report();
  if (path_nr >= r.paths.size())
    return Status::error("path " + std::to_string(path_nr) + " >= nr_paths " + std::to_string(r.paths.size()));
  return reply(g_variant_new_string(path_state_name(r.paths[path_nr].state)));
}

Result<GVariant*> DeviceObject::set_path_state(GVariant* parameters, uid_t caller_uid) {
  guint32 path_nr = 0;
  const char* name = nullptr;
  g_variant_get(parameters, "(u&s)", &path_nr, &name);
  auto state = parse_path_state(name);
  if (!state.ok()) return state.status();
  if (Status s = device_.set_path_state(path_nr, state.value()); !s.ok()) return s;
  reporter_.report(LogLevel::kInfo, "path " + std::to_string(path_nr) + " set " + name + " by uid " +
                                        std::to_string(caller_uid) + " over D-Bus");
  return g_variant_new("()");
}

// ---- the plugin's entry point ---------------------------------------------

namespace {

// /sys/class/uio/<uio_dev>/name holds "tcm-user/<hba>/<name>/<cfgstring>";
// libtcmu keeps the name it parsed from it private.
Result<std::string> device_name_of(const char* uio_dev) {
  const std::string sysfs = "/sys/class/uio/" + std::string(uio_dev) + "/name";
  std::ifstream in(sysfs);
  std::string line;
  if (!std::getline(in, line)) return Status::error("cannot read " + sysfs);
  auto name = device_name_from_uio_name(line);
  if (!name.ok()) return name.status().with_context(sysfs);
  return name;
}

// The process's shared system-bus connection, or nullptr. Reported once per
// process at warning level (every device then lacks D-Bus control for the
// same reason), after that at debug level.
GDBusConnection* system_bus(Reporter& reporter) {
  static std::atomic<bool> reported{false};
  GError* error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
  if (bus != nullptr) return bus;
  const bool first = !reported.exchange(true);
  reporter.report(first ? LogLevel::kWarning : LogLevel::kDebug,
                  std::string("no system bus (") + error->message +
                      "): no D-Bus control; I/O and dev_config reloads work as usual");
  g_error_free(error);
  return nullptr;
}

}  // namespace

std::unique_ptr<DeviceObject> export_device(const char* uio_dev, SwitchDevice& device, Reporter& reporter) noexcept {
  try {
    auto name = device_name_of(uio_dev);
    if (!name.ok()) {
      reporter.report(LogLevel::kWarning, "no D-Bus control: " + name.status().message());
      return nullptr;
    }
    GDBusConnection* bus = system_bus(reporter);
    if (bus == nullptr) return nullptr;
    auto object = DeviceObject::export_on(bus, name.value(), device, reporter);
    g_object_unref(bus);  // the object holds its own reference
    if (!object.ok()) {
      reporter.report(LogLevel::kWarning, "no D-Bus control: " + object.status().message());
      return nullptr;
    }
    reporter.report(LogLevel::kInfo, "D-Bus control at " + object.value()->object_path());
    return std::move(object).value();
  } catch (const std::exception& e) {
    reporter.report(LogLevel::kWarning, std::string("no D-Bus control: ") + e.what());
    return nullptr;
  }
}

}  // namespace tcmu_switch::control
