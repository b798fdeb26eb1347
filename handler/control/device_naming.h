// Names of a switch LUN on D-Bus: which configfs object a tcmu device is and
// the object path that stands for it. No D-Bus calls here, only strings.
#pragma once

#include <string>
#include <string_view>

#include "status.h"

namespace tcmu_switch::control {

// Every device object lives under this path: tcmu-runner's own object for
// the handler is kObjectPathPrefix itself, so devices read as its children.
inline constexpr std::string_view kObjectPathPrefix = "/org/kernel/TCMUService1/switch";

// The configfs object name in a UIO device name as target_core_user writes
// it to /sys/class/uio/uioN/name: "tcm-user/<hba>/<name>/<cfgstring>".
// The error quotes the name and says which part is missing.
Result<std::string> device_name_from_uio_name(std::string_view uio_name);

// One object path element for any name: [A-Za-z0-9] stays, every other byte
// (the '_' escape itself included, so the mapping is reversible) becomes
// "_xx" in lower-case hex. "lun-0" -> "lun_2d0"; "" -> "_".
// targetcli-plugin/tcmu_switch_cli/naming.py mirrors this function.
std::string escape_path_element(std::string_view name);

// kObjectPathPrefix + "/" + escape_path_element(device_name).
std::string device_object_path(std::string_view device_name);

}  // namespace tcmu_switch::control
