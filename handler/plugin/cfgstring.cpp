#include "cfgstring.h"

namespace tcmu_switch {

Result<std::string> config_path_from_cfgstring(std::string_view cfgstring) {
  const std::string prefix = std::string(kSubtype) + "/";
  const std::string quoted = "\"" + std::string(cfgstring) + "\"";
  if (!cfgstring.starts_with(prefix))
    return Status::error("cfgstring " + quoted + " does not start with \"" + prefix + "\"");
  std::string_view rest = cfgstring.substr(prefix.size());
  rest = rest.substr(0, rest.find(';'));  // the runner's own options
  while (rest.starts_with("//")) rest.remove_prefix(1);
  if (rest.empty() || rest == "/")
    return Status::error("cfgstring " + quoted + " names no config file (expected switch/<path of a config file>)");
  return rest.starts_with('/') ? std::string(rest) : "/" + std::string(rest);
}

}  // namespace tcmu_switch
