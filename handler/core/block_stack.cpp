#include "block_stack.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

namespace tcmu_switch {
namespace fs = std::filesystem;
namespace {

// A sysfs "dev" file: "MAJOR:MINOR\n".
std::optional<dev_t> read_devnum(const fs::path& file) {
  std::ifstream in(file);
  unsigned major_nr = 0, minor_nr = 0;
  char colon = 0;
  if (!(in >> major_nr >> colon >> minor_nr) || colon != ':') return std::nullopt;
  return makedev(major_nr, minor_nr);
}

// What `dev` sits on: a partition's disk, a stacked device's slaves.
std::vector<dev_t> lower_devices(dev_t dev, const fs::path& sysfs_root) {
  std::vector<dev_t> lower;
  std::error_code ec;
  // /sys/dev/block/M:m links to the device's directory; a partition's is
  // inside its disk's.
  const fs::path dir = fs::canonical(sysfs_root / "dev/block" / devnum_text(dev), ec);
  if (ec) return lower;
  if (fs::exists(dir / "partition", ec))
    if (auto disk = read_devnum(dir.parent_path() / "dev")) lower.push_back(*disk);
  for (fs::directory_iterator it(dir / "slaves", ec), end; !ec && it != end; it.increment(ec))
    if (auto slave = read_devnum(it->path() / "dev")) lower.push_back(*slave);
  return lower;
}

}  // namespace

std::vector<dev_t> block_stack(dev_t dev, const std::string& sysfs_root) {
  std::vector<dev_t> stack{dev};
  // Breadth first; the visited check guards against a cycle sysfs should never show.
  for (size_t i = 0; i < stack.size(); i++)
    for (dev_t lower : lower_devices(stack[i], sysfs_root))
      if (std::find(stack.begin(), stack.end(), lower) == stack.end()) stack.push_back(lower);
  return stack;
}

std::string devnum_text(dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); }

}  // namespace tcmu_switch
