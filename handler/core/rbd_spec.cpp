#include "rbd_spec.h"

#include <vector>

namespace tcmu_switch {

Result<RbdSpec> parse_rbd_spec(std::string_view device) {
  const std::string what = "device \"" + std::string(device) + "\"";
  std::vector<std::string_view> parts;
  std::string_view rest = device.substr(kRbdPrefix.size());
  for (size_t slash; (slash = rest.find('/')) != std::string_view::npos; rest.remove_prefix(slash + 1))
    parts.push_back(rest.substr(0, slash));
  parts.push_back(rest);
  if (parts.size() < 2 || parts.size() > 3)
    return Status::error(what + " is not rbd:POOL/IMAGE or rbd:POOL/NAMESPACE/IMAGE");
  for (std::string_view part : parts)
    if (part.empty()) return Status::error(what + " has an empty pool, namespace or image name");
  if (parts.back().find('@') != std::string_view::npos)
    return Status::error(what + " names a snapshot: a path must be writable");
  RbdSpec spec{std::string(parts.front()), "", std::string(parts.back())};
  if (parts.size() == 3) spec.ns = parts[1];
  return spec;
}

}  // namespace tcmu_switch
