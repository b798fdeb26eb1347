// Where the unit tests keep their path files: a fresh directory per fixture on
// a file system that takes O_DIRECT, so the engines run as they do in
// production. tmpfs (a common /tmp) refuses O_DIRECT on 6.1 and would quietly
// turn every path buffered; when no candidate takes it, the tests still run,
// and say so loudly.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace tcmu_switch::test_support {

namespace scratch_detail {

namespace fs = std::filesystem;

inline bool takes_o_direct(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return false;
  const fs::path probe = dir / (".o_direct_probe." + std::to_string(getpid()));
  const int fd = ::open(probe.c_str(), O_CREAT | O_RDWR | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  fs::remove(probe, ec);
  return fd >= 0;
}

inline std::vector<fs::path> candidates() {
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("TCMU_SWITCH_TEST_DIR"); d && *d) dirs.emplace_back(d);
  dirs.push_back(fs::temp_directory_path());
  dirs.emplace_back("/var/tmp");
#ifdef TCMU_SWITCH_TEST_BINARY_DIR
  dirs.emplace_back(TCMU_SWITCH_TEST_BINARY_DIR);
#endif
  return dirs;
}

// Chosen once per process, and said once.
inline const fs::path& base() {
  static const fs::path chosen = [] {
    const std::vector<fs::path> dirs = candidates();
    for (const fs::path& d : dirs) {
      if (takes_o_direct(d)) {
        std::fprintf(stderr, "scratch files in %s (O_DIRECT works there)\n", d.c_str());
        return d;
      }
    }
    std::fprintf(stderr,
                 "WARNING: no scratch directory takes O_DIRECT (tried $TCMU_SWITCH_TEST_DIR, the temp "
                 "dir, /var/tmp, the build dir): the path files run BUFFERED in %s\n",
                 dirs.front().c_str());
    return dirs.front();
  }();
  return chosen;
}

}  // namespace scratch_detail

// A new, empty directory NAME.<pid> for one fixture; the fixture removes it.
inline std::filesystem::path make_scratch_dir(const std::string& name) {
  std::filesystem::path dir = scratch_detail::base() / (name + "." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace tcmu_switch::test_support
