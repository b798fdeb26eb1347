#include "device_object.h"

#include <algorithm>
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

// PathStateChanged's name and arguments, for the introspection XML and emit().
constexpr char kPathStateChanged[] = "PathStateChanged";
constexpr char kPathStateChangedArgs[] = "path_nr:u state:s";

// "name:type name:type" (a method's or signal's arguments, as in kMethods)
// as <arg/> elements; direction is "in", "out" or "" (a signal's).
std::string arg_elements(std::string_view args, std::string_view direction) {
  std::string xml;
  while (!args.empty()) {
    const std::string_view arg = args.substr(0, args.find(' '));
    args.remove_prefix(std::min(args.size(), arg.size() + 1));
    const size_t colon = arg.find(':');
    xml += "<arg name=\"" + std::string(arg.substr(0, colon)) + "\" type=\"" + std::string(arg.substr(colon + 1)) +
           "\"";
    if (!direction.empty()) xml += " direction=\"" + std::string(direction) + "\"";
    xml += "/>";
  }
  return xml;
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
  for (size_t i = 0; i < kNrPathCounters; i++)
    add_entry(&b, kPathCounterNames[i], g_variant_new_uint64(path.stats.counts[i]));
  return g_variant_builder_end(&b);
}

// A tuple reply; GDBus wants one even for a single value.
GVariant* reply(GVariant* value) { return g_variant_new_tuple(&value, 1); }

}  // namespace

// One D-Bus method. The introspection XML, the caller check and the dispatch
// all derive from this table, so a method is declared in one row. A table
// rather than gdbus-codegen: codegen would generate a GObject skeleton whose
// per-method "handle-*" signals still need a hand-written root list and one
// g_signal_connect per method, plus a build-time Python step, for an
// interface of nine methods that only this file serves.
struct DeviceObject::Method {
  const char* name;
  const char* in_args;   // "name:type ..." (D-Bus signature per argument)
  const char* out_args;  // ditto
  bool changes_device;   // only the admin uid may call it
  Handler handler;
};

// Path numbers and regions are D-Bus integers; generations are returned by
// every method that publishes one, so a caller can tell its change apart
// from a concurrent dev_config reload.
const DeviceObject::Method DeviceObject::kMethods[] = {
    {"LoadTable", "table:ay", "generation:t", true, &DeviceObject::load_table},
    {"SetRegionMappings", "mappings:s", "generation:t", true, &DeviceObject::set_region_mappings},
    {"GetTable", "", "table:ay", false, &DeviceObject::get_table},
    {"GetTableText", "expand:b", "text:s", false, &DeviceObject::get_table_text},
    {"GetRegions", "first_region:t nr_regions:t", "path_nrs:ay", false, &DeviceObject::get_regions},
    {"GetRegionIo", "", "bucket_shift:u ios:at", false, &DeviceObject::get_region_io},
    {"GetSummary", "", "summary:a{sv}", false, &DeviceObject::get_summary},
    {"GetPathState", "path_nr:u", "state:s", false, &DeviceObject::get_path_state},
    {"SetPathState", "path_nr:u state:s", "", true, &DeviceObject::set_path_state},
};

const DeviceObject::Method* DeviceObject::find_method(std::string_view name) {
  for (const Method& m : kMethods)
    if (name == m.name) return &m;
  return nullptr;
}

GDBusInterfaceInfo* DeviceObject::interface_info() {
  static GDBusNodeInfo* const node = [] {  // never freed: static
    std::string xml = std::string("<node><interface name=\"") + kInterfaceName + "\">";
    for (const Method& m : kMethods)
      xml += std::string("<method name=\"") + m.name + "\">" + arg_elements(m.in_args, "in") +
             arg_elements(m.out_args, "out") + "</method>";
    xml += std::string("<signal name=\"") + kPathStateChanged + "\">" + arg_elements(kPathStateChangedArgs, "") +
           "</signal></interface></node>";
    return g_dbus_node_info_new_for_xml(xml.c_str(), nullptr);
  }();
  return node->interfaces[0];
}

std::string DeviceObject::introspection_xml() {
  GString* xml = g_string_new("<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                              " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n");
  g_dbus_interface_info_generate_xml(interface_info(), 2, xml);
  g_string_append(xml, "</node>\n");
  std::string text(xml->str, xml->len);
  g_string_free(xml, TRUE);
  return text;
}

bool method_changes_device(std::string_view method) {
  const DeviceObject::Method* m = DeviceObject::find_method(method);
  return m != nullptr && m->changes_device;
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
    g_dbus_connection_emit_signal(connection_, nullptr, object_path_.c_str(), kInterfaceName, kPathStateChanged,
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
  const Method* method;               // a row of kMethods
  uid_t caller_uid = static_cast<uid_t>(-1);  // known once the bus has told us
};

DeviceObject::DeviceObject(GDBusConnection* connection, const std::string& device_name, SwitchDevice& device,
                           Reporter& reporter, uid_t admin_uid, const CounterSource* extra)
    : connection_(G_DBUS_CONNECTION(g_object_ref(connection))),
      device_name_(device_name),
      object_path_(device_object_path(device_name)),
      device_(device),
      reporter_(reporter),
      admin_uid_(admin_uid),
      extra_(extra),
      cancellable_(g_cancellable_new()) {}

Result<std::unique_ptr<DeviceObject>> DeviceObject::export_on(GDBusConnection* connection,
                                                              const std::string& device_name, SwitchDevice& device,
                                                              Reporter& reporter, uid_t admin_uid,
                                                              const CounterSource* extra) {
  std::unique_ptr<DeviceObject> object(
      new DeviceObject(connection, device_name, device, reporter, admin_uid, extra));
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
    const Method* method = find_method(method_name);
    if (method == nullptr) {  // GDBus answers methods not in interface_info() itself
      g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                            "no method %s", method_name);
      return;
    }
    auto call = std::make_unique<Call>(Call{self, invocation, method});
    if (method->changes_device) {
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
                                          "%s refused: cannot identify the caller: %s", call->method->name,
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
                                          call->method->name, self->device_name_.c_str(), self->admin_uid_,
                                          call->caller_uid);
    return;
  }
  self->dispatch(*call);
}

void DeviceObject::dispatch(const Call& call) noexcept {
  GVariant* params = g_dbus_method_invocation_get_parameters(call.invocation);
  const char* name = call.method->name;
  try {
    const Result<GVariant*> value = (this->*call.method->handler)(params, call.caller_uid);
    if (value.ok()) {
      g_dbus_method_invocation_return_value(call.invocation, value.value());
    } else {
      g_dbus_method_invocation_return_error(call.invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s: %s",
                                            name, value.status().message().c_str());
    }
  } catch (const std::exception& e) {
    g_dbus_method_invocation_return_error(call.invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "%s failed: %s", name,
                                          e.what());
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

// Applied to a copy of the live table and published in one swap: a bad
// entry anywhere leaves the live table as it was.
Result<GVariant*> DeviceObject::set_region_mappings(GVariant* parameters, uid_t caller_uid) {
  const char* text = nullptr;
  g_variant_get(parameters, "(&s)", &text);
  return published(device_.apply_mappings(text), "region mappings set", caller_uid);
}

Result<GVariant*> DeviceObject::get_table(GVariant*, uid_t) {
  const std::string bytes = encode_table_binary(*device_.snapshot());
  return reply(byte_array(bytes.data(), bytes.size()));
}

Result<GVariant*> DeviceObject::get_table_text(GVariant* parameters, uid_t) {
  gboolean expand = FALSE;
  g_variant_get(parameters, "(b)", &expand);
  TextFormatOptions options;
  options.expand = expand != FALSE;
  return reply(g_variant_new_string(format_table_text(*device_.snapshot(), options).c_str()));
}

// One byte per region: kMaxPaths is 256, so every path_nr fits.
static_assert(kMaxPaths <= 256);

Result<GVariant*> DeviceObject::get_regions(GVariant* parameters, uid_t) {
  guint64 first = 0, count = 0;
  g_variant_get(parameters, "(tt)", &first, &count);
  const auto table = device_.snapshot();
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
Result<GVariant*> DeviceObject::get_region_io(GVariant*, uid_t) {
  const RegionHistogram h = device_.region_histogram();
  return g_variant_new("(u@at)", h.bucket_shift,
                       g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, h.ios.data(), h.ios.size(), sizeof(uint64_t)));
}

Result<GVariant*> DeviceObject::get_summary(GVariant*, uid_t) {
  const DeviceReport r = device_.report();
  const TableGeometry& g = r.table->geometry();
  const std::vector<uint64_t> regions = r.table->regions_per_path();
  GVariantBuilder paths;
  g_variant_builder_init(&paths, G_VARIANT_TYPE("aa{sv}"));
  for (uint32_t i = 0; i < r.paths.size(); i++)
    g_variant_builder_add_value(&paths, path_summary(i, r.paths[i], i < regions.size() ? regions[i] : 0));
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  add_entry(&b, "name", g_variant_new_string(device_name_.c_str()));
  add_entry(&b, "config", g_variant_new_string(r.config_source.c_str()));
  add_entry(&b, "table_file", g_variant_new_string(r.table_path.c_str()));
  add_entry(&b, "mode", g_variant_new_string(mode_name(r.mode)));
  add_entry(&b, "engine", g_variant_new_string(engine_name(r.engine)));
  add_entry(&b, "nr_workers", g_variant_new_uint32(r.nr_workers));
  add_entry(&b, "engine_luns", g_variant_new_uint32(r.engine_luns));
  add_entry(&b, "size_bytes", g_variant_new_uint64(r.size_bytes));
  add_entry(&b, "generation", g_variant_new_uint64(r.generation));
  add_entry(&b, "nr_paths", g_variant_new_uint32(g.nr_paths));
  add_entry(&b, "region_sectors", g_variant_new_uint64(g.region_sectors));
  add_entry(&b, "nr_regions", g_variant_new_uint64(g.nr_regions));
  add_entry(&b, "default", g_variant_new_string(default_mapping_name(g.default_mapping).c_str()));
  add_entry(&b, "busy", g_variant_new_uint64(r.busy));
  // Each path's counters in order, so clients list them without a copy of the names.
  add_entry(&b, "path_counters", g_variant_new_strv(kPathCounterNames, kNrPathCounters));
  add_entry(&b, "buffer_faults", g_variant_new_uint64(r.buffer_faults));
  add_entry(&b, "zc_page_cache_pieces", g_variant_new_uint64(r.page_cache_pieces));
  add_entry(&b, "zc_direct_refused", g_variant_new_uint64(r.mapped_direct_refused));
  if (extra_ != nullptr)
    for (const NamedCounter& c : extra_->counters()) add_entry(&b, c.name, g_variant_new_uint64(c.value));
  add_entry(&b, "paths", g_variant_builder_end(&paths));
  return reply(g_variant_builder_end(&b));
}

Result<GVariant*> DeviceObject::get_path_state(GVariant* parameters, uid_t) {
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

std::unique_ptr<DeviceObject> export_device(const char* uio_dev, SwitchDevice& device, Reporter& reporter,
                                            const CounterSource* extra) noexcept {
  try {
    auto name = device_name_of(uio_dev);
    if (!name.ok()) {
      reporter.report(LogLevel::kWarning, "no D-Bus control: " + name.status().message());
      return nullptr;
    }
    GDBusConnection* bus = system_bus(reporter);
    if (bus == nullptr) return nullptr;
    auto object = DeviceObject::export_on(bus, name.value(), device, reporter, 0, extra);
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
