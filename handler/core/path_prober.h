// PathProber: brings failed paths back (a path fails on an I/O error in
// multipath mode, or in either mode when its block device goes away:
// path_uevents.h). Every interval it reads one block from each of the
// device's failed paths, with a plain pread() or through the path's backend
// (RBD); a path that answers goes back to healthy and the owner hears of it.
// Owned by the SwitchDevice; nothing on the I/O path waits for it.
//
// Every prober of the process runs on one thread ("switch-probe"), started by
// the first and ended with the last, so LUNs add no threads; a probe that
// hangs on a dead path delays the other LUNs' probes, never their I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>

#include "path.h"

namespace tcmu_switch {

class ProbeThread;

class PathProber {
 public:
  using Clock = std::chrono::steady_clock;
  // Told, on the probing thread, of each path it moved from failed to healthy.
  using Restored = std::function<void(uint32_t path_nr)>;

  // Starts probing. REQUIRES: the paths outlive the prober.
  PathProber(std::span<Path* const> paths, uint32_t interval_ms, Restored restored);
  // Stops probing; a probe of these paths in progress finishes first.
  ~PathProber();
  PathProber(const PathProber&) = delete;
  PathProber& operator=(const PathProber&) = delete;

 private:
  friend class ProbeThread;
  // Probes the failed paths once (block: kProbeBytes, page-aligned, for
  // O_DIRECT fds).
  void probe_failed(void* block) noexcept;

  const std::chrono::milliseconds interval_;
  const std::span<Path* const> paths_;
  const Restored restored_;
  Clock::time_point next_due_;  // the probing thread's, under its mutex
};

}  // namespace tcmu_switch
