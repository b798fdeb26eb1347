// The D-Bus control object on a private bus (a dbus-daemon of our own): the
// wire encoding of every method, the root-only rule for changes, and that
// bad input changes nothing and says why.
#include "device_object.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "device_naming.h"
#include "scratch_dir.h"
#include "table_binary.h"
#include "test_support.h"

namespace tcmu_switch::control {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kLunBytes = 4 << 20;
constexpr uint64_t kRegionSectors = 128;  // 64 regions
constexpr uint64_t kNrRegions = kLunBytes / (kRegionSectors * kSectorBytes);
constexpr int kNrPaths = 3;
constexpr int kCallTimeoutMs = 10000;

TEST(DeviceNamingTest, NameIsTheConfigfsObjectInTheUioName) {
  auto name = device_name_from_uio_name("tcm-user/1/lun0/switch//etc/tcmu-switch/lun0.conf");
  ASSERT_TRUE(name.ok()) << name.status().message();
  EXPECT_EQ(name.value(), "lun0");
}

TEST(DeviceNamingTest, UioNameWithoutCfgstringIsRefusedByName) {
  auto name = device_name_from_uio_name("tcm-user/1/lun0");
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.status().message().find("\"tcm-user/1/lun0\""), std::string::npos) << name.status().message();
  EXPECT_FALSE(device_name_from_uio_name("uio0").ok());
}

TEST(DeviceNamingTest, EveryByteButLettersAndDigitsIsEscaped) {
  EXPECT_EQ(escape_path_element("lun0"), "lun0");
  EXPECT_EQ(escape_path_element("lun-0.a_b"), "lun_2d0_2ea_5fb");
  EXPECT_EQ(escape_path_element(""), "_");
  EXPECT_EQ(device_object_path("db-1"), "/org/kernel/TCMUService1/switch/db_2d1");
}

TEST(DeviceObjectPolicyTest, OnlyTableAndPathStateChangesAreRootOnly) {
  for (const char* m : {"LoadTable", "SetRegionMappings", "SetPathState"}) EXPECT_TRUE(method_changes_device(m)) << m;
  for (const char* m : {"GetTable", "GetTableText", "GetRegions", "GetRegionIo", "GetSummary", "GetPathState"})
    EXPECT_FALSE(method_changes_device(m)) << m;
}

// Counts completions; the control tests issue one command at a time.
class CountingSink : public CommandSink {
 public:
  void command_done(void*, IoStatus) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    done_++;
    cv_.notify_all();
  }
  bool wait_done() {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [this] { return done_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int done_ = 0;
};

// A dbus-daemon of our own (session configuration: only our uid may
// connect). It is our child and dies with us even if a test aborts.
class PrivateBus {
 public:
  PrivateBus() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      close(fds[0]);
      const std::string print_address = "--print-address=" + std::to_string(fds[1]);
      execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", print_address.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    if (FILE* out = fdopen(fds[0], "r")) {
      char line[512];
      if (fgets(line, sizeof line, out) != nullptr) address_ = std::string(line, strcspn(line, "\n"));
      fclose(out);
    }
  }
  ~PrivateBus() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  const std::string& address() const { return address_; }

 private:
  std::string address_;
  pid_t pid_ = -1;
};

GDBusConnection* connect(const std::string& address) {
  GError* error = nullptr;
  GDBusConnection* c = g_dbus_connection_new_for_address_sync(
      address.c_str(),
      static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
      nullptr, nullptr, &error);
  EXPECT_NE(c, nullptr) << (error != nullptr ? error->message : "");
  if (error != nullptr) g_error_free(error);
  return c;
}

class DeviceObjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(bus_.address().empty()) << "could not start dbus-daemon --session";
    dir_ = tcmu_switch::test_support::make_scratch_dir("device_object_test");
    DeviceConfig c;
    c.source = "test";
    c.region_sectors = kRegionSectors;
    c.engine = EngineKind::kSync;
    for (int i = 0; i < kNrPaths; i++) {
      const std::string f = (dir_ / ("path" + std::to_string(i))).string();
      const int fd = ::open(f.c_str(), O_CREAT | O_RDWR, 0600);
      ASSERT_EQ(ftruncate(fd, kLunBytes), 0);
      ::close(fd);
      c.paths.push_back({f, 0, "p" + std::to_string(i)});
    }
    auto d = SwitchDevice::open(c, {kLunBytes, 1 << 20, 32}, sink_, reporter_);
    ASSERT_TRUE(d.ok()) << d.status().message();
    device_ = std::move(d).value();
    service_ = connect(bus_.address());
    client_ = connect(bus_.address());
    ASSERT_NE(service_, nullptr);
    ASSERT_NE(client_, nullptr);
  }

  // Exports on a context served by its own thread, as tcmu-runner's main
  // loop serves the real object while the test thread plays the caller.
  void export_object(uid_t admin_uid, const CounterSource* extra = nullptr) {
    g_main_context_push_thread_default(service_context_);
    auto object = DeviceObject::export_on(service_, "lun-0", *device_, reporter_, admin_uid, extra);
    g_main_context_pop_thread_default(service_context_);
    ASSERT_TRUE(object.ok()) << object.status().message();
    object_ = std::move(object).value();
    loop_ = g_main_loop_new(service_context_, FALSE);
    service_thread_ = std::thread([this] {
      g_main_context_push_thread_default(service_context_);  // where the caller checks' replies arrive
      g_main_loop_run(loop_);
      g_main_context_pop_thread_default(service_context_);
    });
  }

  void TearDown() override {
    if (loop_ != nullptr) {
      // Quit from inside the loop: a g_main_loop_quit() before the service
      // thread enters g_main_loop_run() would be lost (a test whose calls GDBus
      // answers on its own thread, like Introspect, can end that early).
      GSource* quit = g_idle_source_new();
      g_source_set_callback(
          quit, [](gpointer loop) { g_main_loop_quit(static_cast<GMainLoop*>(loop)); return G_SOURCE_REMOVE; },
          loop_, nullptr);
      g_source_attach(quit, service_context_);
      g_source_unref(quit);
      service_thread_.join();
      g_main_loop_unref(loop_);
    }
    object_.reset();
    if (client_ != nullptr) g_object_unref(client_);
    if (service_ != nullptr) g_object_unref(service_);
    g_main_context_unref(service_context_);
    device_.reset();
    fs::remove_all(dir_);
  }

  // The reply, or nullptr with error_ set to the D-Bus error's message.
  GVariant* call(const char* method, GVariant* params, const char* reply_type) {
    g_clear_error(&error_);
    return g_dbus_connection_call_sync(client_, g_dbus_connection_get_unique_name(service_),
                                       device_object_path("lun-0").c_str(), kInterfaceName, method, params,
                                       G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NONE, kCallTimeoutMs, nullptr,
                                       &error_);
  }

  std::string error_message() const { return error_ != nullptr ? error_->message : "(no error)"; }
  bool error_is(GDBusError code) const { return error_ != nullptr && g_error_matches(error_, G_DBUS_ERROR, code); }

  std::vector<uint8_t> regions(uint64_t first, uint64_t count) {
    GVariant* r = call("GetRegions", g_variant_new("(tt)", first, count), "(ay)");
    EXPECT_NE(r, nullptr) << error_message();
    if (r == nullptr) return {};
    GVariant* ay = g_variant_get_child_value(r, 0);
    gsize n = 0;
    const auto* p = static_cast<const uint8_t*>(g_variant_get_fixed_array(ay, &n, 1));
    std::vector<uint8_t> out(p, p + n);
    g_variant_unref(ay);
    g_variant_unref(r);
    return out;
  }

  std::string path_state(uint32_t path_nr) {
    GVariant* r = call("GetPathState", g_variant_new("(u)", path_nr), "(s)");
    EXPECT_NE(r, nullptr) << error_message();
    if (r == nullptr) return {};
    const char* s = nullptr;
    g_variant_get(r, "(&s)", &s);
    std::string out = s;
    g_variant_unref(r);
    return out;
  }

  uint64_t generation() { return device_->report().generation; }

  ~DeviceObjectTest() override { g_clear_error(&error_); }

  PrivateBus bus_;
  fs::path dir_;
  CountingSink sink_;
  test_support::CollectingReporter reporter_;
  std::unique_ptr<SwitchDevice> device_;
  GDBusConnection* service_ = nullptr;
  GDBusConnection* client_ = nullptr;
  GMainContext* service_context_ = g_main_context_new();
  GMainLoop* loop_ = nullptr;
  std::thread service_thread_;
  std::unique_ptr<DeviceObject> object_;
  GError* error_ = nullptr;
};

TEST_F(DeviceObjectTest, SetRegionMappingsPublishesAGenerationThatGetRegionsReads) {
  export_object(getuid());
  EXPECT_EQ(regions(0, 4), (std::vector<uint8_t>{0, 1, 2, 0}));  // round-robin default
  GVariant* r = call("SetRegionMappings", g_variant_new("(s)", "0:2 1:2 3:1"), "(t)");
  ASSERT_NE(r, nullptr) << error_message();
  guint64 gen = 0;
  g_variant_get(r, "(t)", &gen);
  g_variant_unref(r);
  EXPECT_EQ(gen, generation());
  EXPECT_EQ(regions(0, 4), (std::vector<uint8_t>{2, 2, 2, 1}));
}

TEST_F(DeviceObjectTest, MalformedMappingsChangeNothingAndNameTheEntry) {
  export_object(getuid());
  const uint64_t before = generation();
  EXPECT_EQ(call("SetRegionMappings", g_variant_new("(s)", "0:1 1:7"), "(t)"), nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_INVALID_ARGS)) << error_message();
  EXPECT_NE(error_message().find("path 7 >= nr_paths 3"), std::string::npos) << error_message();
  EXPECT_EQ(generation(), before);
  EXPECT_EQ(regions(0, 2), (std::vector<uint8_t>{0, 1}));  // the valid first entry was not applied either
}

TEST_F(DeviceObjectTest, GetTableBytesLoadBackIntoTheSameMapping) {
  export_object(getuid());
  GVariant* saved = call("GetTable", nullptr, "(ay)");
  ASSERT_NE(saved, nullptr) << error_message();
  const std::vector<uint8_t> original = regions(0, kNrRegions);
  GVariant* r = call("SetRegionMappings", g_variant_new("(s)", "0:1 R1,3f"), "(t)");
  ASSERT_NE(r, nullptr) << error_message();
  g_variant_unref(r);
  ASSERT_NE(regions(0, kNrRegions), original);
  r = call("LoadTable", saved, "(t)");  // consumes `saved`, a (ay) tuple as LoadTable takes it
  ASSERT_NE(r, nullptr) << error_message();
  g_variant_unref(r);
  EXPECT_EQ(regions(0, kNrRegions), original);
}

TEST_F(DeviceObjectTest, LoadTableRefusesBytesOfAnotherGeometry) {
  export_object(getuid());
  auto other = RegionTable::create({kNrPaths, kRegionSectors, kNrRegions + 1, DefaultMapping::round_robin()});
  ASSERT_TRUE(other.ok());
  const std::string bytes = encode_table_binary(*other.value());
  const uint64_t before = generation();
  EXPECT_EQ(call("LoadTable",
                 g_variant_new("(@ay)", g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes.data(), bytes.size(), 1)),
                 "(t)"),
            nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_INVALID_ARGS)) << error_message();
  EXPECT_NE(error_message().find("nr_regions"), std::string::npos) << error_message();
  EXPECT_EQ(generation(), before);
}

// The wire interface the targetcli plugin relies on, as the bus reports it:
// every method with its in and out signatures, and the signal.
TEST_F(DeviceObjectTest, IntrospectionDeclaresEveryMethodWithItsSignatures) {
  export_object(getuid());
  GVariant* r = g_dbus_connection_call_sync(
      client_, g_dbus_connection_get_unique_name(service_), device_object_path("lun-0").c_str(),
      "org.freedesktop.DBus.Introspectable", "Introspect", nullptr, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
      kCallTimeoutMs, nullptr, &error_);
  ASSERT_NE(r, nullptr) << error_message();
  const char* xml = nullptr;
  g_variant_get(r, "(&s)", &xml);
  GDBusNodeInfo* node = g_dbus_node_info_new_for_xml(xml, &error_);
  g_variant_unref(r);
  ASSERT_NE(node, nullptr) << error_message();
  GDBusInterfaceInfo* iface = g_dbus_node_info_lookup_interface(node, kInterfaceName);
  ASSERT_NE(iface, nullptr);
  auto signature = [](GDBusArgInfo** args) {
    std::string sig;
    for (; args != nullptr && *args != nullptr; args++) sig += (*args)->signature;
    return sig;
  };
  const struct {
    const char* name;
    const char* in;
    const char* out;
  } expected[] = {
      {"LoadTable", "ay", "t"},    {"SetRegionMappings", "s", "t"}, {"GetTable", "", "ay"},
      {"GetTableText", "b", "s"},  {"GetRegions", "tt", "ay"},      {"GetRegionIo", "", "uat"},
      {"GetSummary", "", "a{sv}"}, {"GetPathState", "u", "s"},      {"SetPathState", "us", ""},
  };
  size_t nr_methods = 0;
  for (GDBusMethodInfo** m = iface->methods; *m != nullptr; m++) nr_methods++;
  EXPECT_EQ(nr_methods, std::size(expected));
  for (const auto& e : expected) {
    GDBusMethodInfo* m = g_dbus_interface_info_lookup_method(iface, e.name);
    ASSERT_NE(m, nullptr) << e.name;
    EXPECT_EQ(signature(m->in_args), e.in) << e.name;
    EXPECT_EQ(signature(m->out_args), e.out) << e.name;
  }
  GDBusSignalInfo* sig = g_dbus_interface_info_lookup_signal(iface, "PathStateChanged");
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(signature(sig->args), "us");
  g_dbus_node_info_unref(node);
}

TEST_F(DeviceObjectTest, GetRegionsBeyondTheTableIsRefused) {
  export_object(getuid());
  EXPECT_EQ(call("GetRegions", g_variant_new("(tt)", kNrRegions - 1, uint64_t{2}), "(ay)"), nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_INVALID_ARGS)) << error_message();
  EXPECT_NE(error_message().find("> nr_regions 64"), std::string::npos) << error_message();
}

TEST_F(DeviceObjectTest, ACallerThatIsNotTheAdminIsRefusedAndNothingChanges) {
  export_object(getuid() + 1);
  const uint64_t before = generation();
  EXPECT_EQ(call("SetRegionMappings", g_variant_new("(s)", "0:1"), "(t)"), nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_ACCESS_DENIED)) << error_message();
  EXPECT_NE(error_message().find("caller is uid " + std::to_string(getuid())), std::string::npos) << error_message();
  EXPECT_EQ(call("SetPathState", g_variant_new("(us)", 1u, "failed"), "()"), nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_ACCESS_DENIED)) << error_message();
  EXPECT_EQ(generation(), before);
  EXPECT_EQ(path_state(1), "healthy");  // reading is open to anyone
}

TEST_F(DeviceObjectTest, SetPathStateChangesTheStateAndSignalsIt) {
  export_object(getuid());
  GMainContext* client_context = g_main_context_new();
  g_main_context_push_thread_default(client_context);
  std::vector<std::pair<uint32_t, std::string>> seen;
  const guint sub = g_dbus_connection_signal_subscribe(
      client_, nullptr, kInterfaceName, "PathStateChanged", device_object_path("lun-0").c_str(), nullptr,
      G_DBUS_SIGNAL_FLAGS_NONE,
      [](GDBusConnection*, const gchar*, const gchar*, const gchar*, const gchar*, GVariant* params, gpointer data) {
        guint32 path_nr = 0;
        const char* state = nullptr;
        g_variant_get(params, "(u&s)", &path_nr, &state);
        static_cast<std::vector<std::pair<uint32_t, std::string>>*>(data)->emplace_back(path_nr, state);
      },
      &seen, nullptr);
  GVariant* r = call("SetPathState", g_variant_new("(us)", 2u, "disabled"), "()");
  ASSERT_NE(r, nullptr) << error_message();
  g_variant_unref(r);
  EXPECT_EQ(path_state(2), "disabled");
  for (int i = 0; i < 100 && seen.empty(); i++) {
    while (g_main_context_iteration(client_context, FALSE)) {
    }
    if (seen.empty()) g_usleep(20000);
  }
  g_dbus_connection_signal_unsubscribe(client_, sub);
  g_main_context_pop_thread_default(client_context);
  g_main_context_unref(client_context);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, 2u);
  EXPECT_EQ(seen[0].second, "disabled");
}

TEST_F(DeviceObjectTest, SetPathStateRefusesUnknownStatesAndPathsByName) {
  export_object(getuid());
  EXPECT_EQ(call("SetPathState", g_variant_new("(us)", 0u, "sleepy"), "()"), nullptr);
  EXPECT_TRUE(error_is(G_DBUS_ERROR_INVALID_ARGS)) << error_message();
  EXPECT_NE(error_message().find("\"sleepy\""), std::string::npos) << error_message();
  EXPECT_EQ(call("SetPathState", g_variant_new("(us)", 3u, "failed"), "()"), nullptr);
  EXPECT_NE(error_message().find("path 3 >= nr_paths 3"), std::string::npos) << error_message();
  EXPECT_EQ(path_state(0), "healthy");
}

TEST_F(DeviceObjectTest, RegionIoCountsTheWriteInItsBucket) {
  export_object(getuid());
  test_support::AlignedBuffer buf(4096);
  std::memset(buf.data, 0x5a, buf.size);
  iovec iov{buf.data, buf.size};
  const uint64_t region = 5;
  ASSERT_EQ(device_->write(buf.data, &iov, 1, region * kRegionSectors * kSectorBytes, buf.size, false),
            IoStatus::kOk);
  ASSERT_TRUE(sink_.wait_done());
  GVariant* r = call("GetRegionIo", nullptr, "(uat)");
  ASSERT_NE(r, nullptr) << error_message();
  guint32 shift = 0;
  GVariant* ios = nullptr;
  g_variant_get(r, "(u@at)", &shift, &ios);
  gsize n = 0;
  const auto* counts = static_cast<const guint64*>(g_variant_get_fixed_array(ios, &n, sizeof(guint64)));
  ASSERT_GT(n, region >> shift);
  EXPECT_EQ(counts[region >> shift], 1u);
  uint64_t total = 0;
  for (gsize i = 0; i < n; i++) total += counts[i];
  EXPECT_EQ(total, 1u);
  g_variant_unref(ios);
  g_variant_unref(r);
}

TEST_F(DeviceObjectTest, SummaryCountsEveryRegionOnceAndNamesThePaths) {
  export_object(getuid());
  GVariant* r = call("GetSummary", nullptr, "(a{sv})");
  ASSERT_NE(r, nullptr) << error_message();
  GVariant* dict = g_variant_get_child_value(r, 0);
  guint64 nr_regions = 0;
  const char* mode = nullptr;
  ASSERT_TRUE(g_variant_lookup(dict, "nr_regions", "t", &nr_regions));
  ASSERT_TRUE(g_variant_lookup(dict, "mode", "&s", &mode));
  EXPECT_EQ(nr_regions, kNrRegions);
  EXPECT_STREQ(mode, "placement");
  GVariant* paths = g_variant_lookup_value(dict, "paths", G_VARIANT_TYPE("aa{sv}"));
  ASSERT_NE(paths, nullptr);
  ASSERT_EQ(g_variant_n_children(paths), static_cast<gsize>(kNrPaths));
  uint64_t total = 0;
  for (gsize i = 0; i < g_variant_n_children(paths); i++) {
    GVariant* p = g_variant_get_child_value(paths, i);
    guint64 n = 0;
    const char* name = nullptr;
    ASSERT_TRUE(g_variant_lookup(p, "regions", "t", &n));
    ASSERT_TRUE(g_variant_lookup(p, "name", "&s", &name));
    EXPECT_EQ(std::string(name), "p" + std::to_string(i));
    total += n;
    g_variant_unref(p);
  }
  EXPECT_EQ(total, kNrRegions);
  const char** counters = nullptr;
  ASSERT_TRUE(g_variant_lookup(dict, "path_counters", "^a&s", &counters));
  std::vector<std::string> names(counters, counters + g_strv_length(const_cast<gchar**>(counters)));
  g_free(counters);
  EXPECT_EQ(names, std::vector<std::string>(std::begin(kPathCounterNames), std::end(kPathCounterNames)));
  GVariant* first = g_variant_get_child_value(paths, 0);
  for (const std::string& name : names) EXPECT_TRUE(g_variant_lookup(first, name.c_str(), "t", nullptr)) << name;
  g_variant_unref(first);
  g_variant_unref(paths);
  g_variant_unref(dict);
  g_variant_unref(r);
}

// The plugin's zero-copy tally reaches the summary through a CounterSource.
TEST_F(DeviceObjectTest, SummaryCarriesTheCountersOfAnExtraSource) {
  static const struct TwoCounters final : CounterSource {  // outlives the object (TearDown unexports it)
    std::vector<NamedCounter> counters() const override { return {{"zc_mapped", 7}, {"zc_copied", 3}}; }
  } extra;
  export_object(getuid(), &extra);
  GVariant* r = call("GetSummary", nullptr, "(a{sv})");
  ASSERT_NE(r, nullptr) << error_message();
  GVariant* dict = g_variant_get_child_value(r, 0);
  guint64 mapped = 0, copied = 0, refused = 1;
  EXPECT_TRUE(g_variant_lookup(dict, "zc_mapped", "t", &mapped));
  EXPECT_TRUE(g_variant_lookup(dict, "zc_copied", "t", &copied));
  EXPECT_TRUE(g_variant_lookup(dict, "zc_direct_refused", "t", &refused));  // the device's own
  EXPECT_EQ(mapped, 7u);
  EXPECT_EQ(copied, 3u);
  EXPECT_EQ(refused, 0u);
  g_variant_unref(dict);
  g_variant_unref(r);
}

}  // namespace
}  // namespace tcmu_switch::control

namespace tcmu_switch::control {
namespace {

// The installed org.tcmuswitch.Device1.xml is this document: it must parse
// as D-Bus introspection and name what the handler answers.
TEST(InterfaceXmlTest, IsIntrospectionOfTheInterfaceTheHandlerServes) {
  const std::string xml = DeviceObject::introspection_xml();
  GError* error = nullptr;
  GDBusNodeInfo* node = g_dbus_node_info_new_for_xml(xml.c_str(), &error);
  ASSERT_NE(node, nullptr) << (error ? error->message : "") << "\n" << xml;
  GDBusInterfaceInfo* iface = g_dbus_node_info_lookup_interface(node, kInterfaceName);
  ASSERT_NE(iface, nullptr) << xml;
  for (const char* method : {"LoadTable", "SetRegionMappings", "GetSummary", "SetPathState"})
    EXPECT_NE(g_dbus_interface_info_lookup_method(iface, method), nullptr) << method;
  EXPECT_NE(g_dbus_interface_info_lookup_signal(iface, "PathStateChanged"), nullptr);
  const GDBusMethodInfo* set_state = g_dbus_interface_info_lookup_method(iface, "SetPathState");
  ASSERT_NE(set_state, nullptr);
  ASSERT_NE(set_state->in_args[0], nullptr);
  EXPECT_STREQ(set_state->in_args[0]->signature, "u");
  g_dbus_node_info_unref(node);
}

}  // namespace
}  // namespace tcmu_switch::control
