#include "uevent.h"

#include <sys/sysmacros.h>

#include <charconv>

namespace tcmu_switch {
namespace {

Result<uint64_t> parse_number(std::string_view key, std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    return Status::error("uevent field " + std::string(key) + "=\"" + std::string(text) +
                         "\" is not an unsigned integer");
  return value;
}

// Stores one KEY=VALUE field; unknown keys are the kernel's to add.
Status take_field(std::string_view key, std::string_view value, Uevent& ev, bool& has_major, bool& has_minor,
                  uint64_t& major_nr, uint64_t& minor_nr) {
  if (key == "ACTION") ev.action = value;
  else if (key == "DEVPATH") ev.devpath = value;
  else if (key == "SUBSYSTEM") ev.subsystem = value;
  else if (key == "DEVNAME") ev.devname = value;
  else if (key == "DM_NAME") ev.dm_name = value;
  else if (key == "MAJOR" || key == "MINOR" || key == "SEQNUM") {
    auto n = parse_number(key, value);
    if (!n.ok()) return n.status();
    if (key == "MAJOR") { major_nr = n.value(); has_major = true; }
    else if (key == "MINOR") { minor_nr = n.value(); has_minor = true; }
    else ev.seqnum = n.value();
  }
  return {};
}

}  // namespace

Result<Uevent> parse_uevent(std::string_view message) {
  const size_t header_end = message.find('\0');
  const std::string_view header = message.substr(0, header_end);
  const size_t at = header.find('@');
  if (at == std::string_view::npos || at == 0)
    return Status::error("uevent header \"" + std::string(header) + "\" is not ACTION@DEVPATH");
  Uevent ev;
  ev.action = header.substr(0, at);
  ev.devpath = header.substr(at + 1);
  bool has_major = false, has_minor = false;
  uint64_t major_nr = 0, minor_nr = 0;
  size_t pos = header_end == std::string_view::npos ? message.size() : header_end + 1;
  while (pos < message.size()) {
    size_t end = message.find('\0', pos);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view field = message.substr(pos, end - pos);
    pos = end + 1;
    if (field.empty()) continue;
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Status::error("uevent field \"" + std::string(field) + "\" is not KEY=VALUE");
    if (Status s = take_field(field.substr(0, eq), field.substr(eq + 1), ev, has_major, has_minor, major_nr,
                              minor_nr);
        !s.ok())
      return s;
  }
  if (has_major != has_minor) return Status::error("uevent has MAJOR or MINOR without the other");
  if (has_major) {
    // dev_t holds 12 bits of major and 20 of minor in the kernel (MINORBITS).
    if (major_nr >= (1u << 12) || minor_nr >= (1u << 20))
      return Status::error("uevent device number " + std::to_string(major_nr) + ":" + std::to_string(minor_nr) +
                           " is beyond the kernel's 12:20 bits");
    ev.has_devnum = true;
    ev.devnum = makedev(static_cast<unsigned>(major_nr), static_cast<unsigned>(minor_nr));
  }
  return ev;
}

BlockEvent block_event(const Uevent& event) {
  if (event.subsystem != "block" || !event.has_devnum) return BlockEvent::kNone;
  if (event.action == "remove" || event.action == "offline") return BlockEvent::kGone;
  if (event.action == "add" || event.action == "online") return BlockEvent::kBack;
  if (event.action == "change") return BlockEvent::kChanged;
  return BlockEvent::kNone;
}

}  // namespace tcmu_switch
