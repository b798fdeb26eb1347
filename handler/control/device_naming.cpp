#include "device_naming.h"

namespace tcmu_switch::control {

Result<std::string> device_name_from_uio_name(std::string_view uio_name) {
  constexpr std::string_view kPrefix = "tcm-user/";
  const std::string quoted = "UIO name \"" + std::string(uio_name) + "\"";
  if (!uio_name.starts_with(kPrefix)) return Status::error(quoted + " does not start with " + std::string(kPrefix));
  std::string_view rest = uio_name.substr(kPrefix.size());
  const size_t hba_end = rest.find('/');
  if (hba_end == std::string_view::npos) return Status::error(quoted + " has no device name after the HBA");
  rest = rest.substr(hba_end + 1);
  const size_t name_end = rest.find('/');
  if (name_end == 0 || name_end == std::string_view::npos)
    return Status::error(quoted + " has no \"/<cfgstring>\" after the device name");
  return std::string(rest.substr(0, name_end));
}

std::string escape_path_element(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (name.empty()) return "_";
  std::string out;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9');
    if (plain) {
      out += c;
    } else {
      out += '_';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::string device_object_path(std::string_view device_name) {
  return std::string(kObjectPathPrefix) + "/" + escape_path_element(device_name);
}

}  // namespace tcmu_switch::control
