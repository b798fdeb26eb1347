// PathProber: the thread that brings failed paths back (a path fails on an
// I/O error in multipath mode, or in either mode when its block device goes
// away: path_uevents.h). Every interval it reads one block from each failed
// path, with a plain pread() or through the path's backend (RBD); a path that
// answers goes back to healthy and the owner hears of it. Owned by the
// SwitchDevice; nothing on the I/O path waits for it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>

#include "path.h"

namespace tcmu_switch {

class PathProber {
 public:
  // Told, on the prober's thread, of each path it moved from failed to healthy.
  using Restored = std::function<void(uint32_t path_nr)>;

  // Starts the thread. REQUIRES: the paths outlive the prober.
  PathProber(std::span<Path* const> paths, uint32_t interval_ms, Restored restored);
  // Stops and joins the thread; a probe in progress finishes first.
  ~PathProber();
  PathProber(const PathProber&) = delete;
  PathProber& operator=(const PathProber&) = delete;

 private:
  void run();
  bool answers(const Path& path);

  const std::span<Path* const> paths_;
  const uint32_t interval_ms_;
  const Restored restored_;
  void* block_ = nullptr;  // kProbeBytes, page-aligned: the paths' fds are O_DIRECT
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace tcmu_switch
