// The cfgstring tcmu-runner hands the plugin for a `user:switch` LUN, and the
// subtype that selects this handler. Free of tcmu-runner headers, so it is
// unit-tested and fuzzed on its own.
//
//   cfgstring  = "switch/" segment { ";" segment }
//   segment    = <absolute path of the config file> | runner option | ""
//
// Exactly one segment names the config file; tcmu-runner's own options
// (";tcmur_cmd_time_out=N") may stand before or after it, as the runner's
// documentation writes them first and targetcli users append them.
#pragma once

#include <string>
#include <string_view>

#include "status.h"

namespace tcmu_switch {

inline constexpr std::string_view kSubtype = "switch";

// "switch/<path>" -> "<path>"; names what is wrong with a malformed cfgstring.
Result<std::string> config_path_from_cfgstring(std::string_view cfgstring);

}  // namespace tcmu_switch
