// DeviceObject: one switch LUN on D-Bus, interface org.tcmuswitch.Device1
// (its methods are the table kMethods in device_object.cpp; the tools that
// use it are in targetcli-plugin/). Like SPDK's vbdev_split_rpc.c it only decodes a call,
// calls the core and encodes the reply or a D-Bus error; all table logic
// stays in handler/core.
//
// Threads: the object is exported, called and unexported on the thread whose
// thread-default GMainContext was current at export (tcmu-runner's main loop,
// which also runs open/close/reconfig). PathStateChanged may be emitted from
// any thread (the engine's workers and the prober fail and restore paths).
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "counter_source.h"
#include "reporter.h"
#include "status.h"
#include "switch_device.h"

namespace tcmu_switch::control {

inline constexpr char kInterfaceName[] = "org.tcmuswitch.Device1";

// Methods that change the device (the table or a path's state). Only the
// admin uid may call them; tcmu-runner's bus policy lets anyone send to its
// name, so this check is the only one.
bool method_changes_device(std::string_view method);

// Reply size limit of GetRegions: one byte per region, 16 MiB.
inline constexpr uint64_t kMaxRegionsPerCall = uint64_t{1} << 24;

class DeviceObject {
 public:
  // Exports device at device_object_path(device_name) on connection, which
  // must be a message-bus connection (the caller's uid comes from the bus).
  // admin_uid is root in production; tests pass their own uid or another.
  // GetSummary adds extra's counters (may be null; it must outlive the object).
  static Result<std::unique_ptr<DeviceObject>> export_on(GDBusConnection* connection, const std::string& device_name,
                                                         SwitchDevice& device, Reporter& reporter, uid_t admin_uid = 0,
                                                         const CounterSource* extra = nullptr);
  // Unexports. A call whose caller check is still in flight is answered
  // with an error and never reaches the device.
  ~DeviceObject();
  DeviceObject(const DeviceObject&) = delete;
  DeviceObject& operator=(const DeviceObject&) = delete;

  const std::string& object_path() const { return object_path_; }
  // The interface as a D-Bus introspection document, the one installed
  // under /usr/share/dbus-1/interfaces for clients to read.
  static std::string introspection_xml();

 private:
  friend bool method_changes_device(std::string_view method);
  struct Call;
  struct Method;
  class SignalEmitter;
  // Decodes the parameters (GDBus has checked them against the signature),
  // calls the core and returns the reply (floating) or the Status of bad input.
  using Handler = Result<GVariant*> (DeviceObject::*)(GVariant* parameters, uid_t caller_uid);
  static const Method kMethods[];
  static const Method* find_method(std::string_view name);
  static GDBusInterfaceInfo* interface_info();

  DeviceObject(GDBusConnection* connection, const std::string& device_name, SwitchDevice& device,
               Reporter& reporter, uid_t admin_uid, const CounterSource* extra);
  static void on_method_call(GDBusConnection* connection, const gchar* sender, const gchar* object_path,
                             const gchar* interface_name, const gchar* method_name, GVariant* parameters,
                             GDBusMethodInvocation* invocation, gpointer user_data) noexcept;
  static void on_caller_uid(GObject* source, GAsyncResult* result, gpointer user_data) noexcept;
  void check_caller_then_dispatch(std::unique_ptr<Call> call);
  void dispatch(const Call& call) noexcept;

  // The handlers of kMethods.
  Result<GVariant*> load_table(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> set_region_mappings(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_table(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_table_text(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_regions(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_region_io(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_summary(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> get_path_state(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> set_path_state(GVariant* parameters, uid_t caller_uid);
  Result<GVariant*> published(Result<uint64_t> generation, const std::string& what, uid_t caller_uid);

  GDBusConnection* connection_;  // a reference of ours
  std::string device_name_;
  std::string object_path_;
  SwitchDevice& device_;
  Reporter& reporter_;
  const uid_t admin_uid_;
  const CounterSource* extra_;  // may be null
  guint registration_id_ = 0;
  GCancellable* cancellable_;  // cancelled at unexport: fences pending caller checks
};

// For the plugin: exports device on the process's system-bus connection (the
// one tcmu-runner owns org.kernel.TCMUService1 on), named after the configfs
// object behind the UIO device uio_dev ("uio3"). Without a system bus, or if
// exporting fails, it reports why (the missing bus once per process) and
// returns nullptr: the device serves I/O and reloads through dev_config all
// the same.
std::unique_ptr<DeviceObject> export_device(const char* uio_dev, SwitchDevice& device, Reporter& reporter,
                                            const CounterSource* extra = nullptr) noexcept;

}  // namespace tcmu_switch::control
