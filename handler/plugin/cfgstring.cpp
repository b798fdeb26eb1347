#include "cfgstring.h"

#include <array>

namespace tcmu_switch {
namespace {

// The options tcmu-runner takes out of a cfgstring before open()
// (main.c, parse_tcmu_runner_args), wherever they stand after the subtype.
constexpr std::array<std::string_view, 1> kRunnerOptions = {"tcmur_cmd_time_out="};

bool is_runner_option(std::string_view segment) {
  for (std::string_view option : kRunnerOptions)
    if (segment.starts_with(option)) return true;
  return false;
}

}  // namespace

Result<std::string> config_path_from_cfgstring(std::string_view cfgstring) {
  const std::string prefix = std::string(kSubtype) + "/";
  const std::string quoted = "\"" + std::string(cfgstring) + "\"";
  if (!cfgstring.starts_with(prefix))
    return Status::error("cfgstring " + quoted + " does not start with \"" + prefix + "\"");
  std::string_view rest = cfgstring.substr(prefix.size());
  std::string_view path;
  while (!rest.empty()) {
    const size_t end = rest.find(';');
    const std::string_view segment = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (segment.empty()) continue;
    if (segment.starts_with("tcmur_")) {
      if (!is_runner_option(segment))
        return Status::error("cfgstring " + quoted + ": unknown tcmu-runner option \"" + std::string(segment) +
                             "\" (the runner takes tcmur_cmd_time_out=N)");
      continue;
    }
    if (!path.empty())
      return Status::error("cfgstring " + quoted + " names two config files, \"" + std::string(path) + "\" and \"" +
                           std::string(segment) + "\"");
    path = segment;
  }
  while (path.starts_with("//")) path.remove_prefix(1);
  if (path.empty() || path == "/")
    return Status::error("cfgstring " + quoted + " names no config file (expected " + prefix +
                         "<path of a config file>, tcmu-runner options such as ;tcmur_cmd_time_out=N before or "
                         "after the path)");
  return path.starts_with('/') ? std::string(path) : "/" + std::string(path);
}

}  // namespace tcmu_switch
