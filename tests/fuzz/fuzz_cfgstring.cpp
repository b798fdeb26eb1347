// libFuzzer target: the cfgstring (handler/plugin/cfgstring.h), which reaches the
// handler from targetcli, configfs and the kernel: "switch/<path>", with
// tcmu-runner's own ";name=value" options appended. Properties: no crash;
// an error quotes the cfgstring; an accepted one gives an absolute path with
// no runner option left in it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cfgstring.h"
#include "fuzz_check.h"

using namespace tcmu_switch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view cfgstring(reinterpret_cast<const char*>(data), size);
  auto path = config_path_from_cfgstring(cfgstring);
  if (!path.ok()) {
    FUZZ_CHECK(path.status().message().find("cfgstring") == 0);
    return 0;
  }
  FUZZ_CHECK(cfgstring.starts_with("switch/"));
  FUZZ_CHECK(path.value().size() > 1 && path.value().front() == '/');
  FUZZ_CHECK(path.value().find(';') == std::string::npos);
  FUZZ_CHECK(cfgstring.find(path.value().substr(1)) != std::string_view::npos);
  return 0;
}
