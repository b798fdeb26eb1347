// PathUevents: a LUN's view of kernel uevents. It knows the block devices
// under each path (block_stack.h) and, when one of them is removed or goes
// offline, fails the path at once instead of at its next I/O error, the way
// multipathd reacts to uevents. add/online only logs: the prober restores
// a path once it answers. A change of the path's own device (a dm table
// swapped) re-reads what it sits on.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "path.h"
#include "reporter.h"
#include "status.h"
#include "uevent_monitor.h"

namespace tcmu_switch {

class PathUevents final : private UeventListener {
 public:
  // Marks the path failed; true if it was healthy. Runs on the monitor thread.
  using FailPath = std::function<bool(uint32_t path_nr)>;

  // Reads what each path sits on; hears nothing until listen().
  PathUevents(std::span<Path* const> paths, FailPath fail, Reporter& reporter, std::string sysfs_root = "/sys");
  ~PathUevents() override = default;  // unsubscribes first: subscription_ is the last member
  PathUevents(const PathUevents&) = delete;
  PathUevents& operator=(const PathUevents&) = delete;

  // Subscribes to the process's uevents; an error when it cannot listen
  // (uevent_monitor.h). REQUIRES: not listening yet.
  Status listen();

  // What path_nr's I/O passes through, its own device first (empty: none).
  const std::vector<dev_t>& stack(uint32_t path_nr) const { return stacks_[path_nr]; }

  // One uevent, as the monitor thread hands it over (tests call it directly,
  // without listen()).
  void handle(const Uevent& event, Clock::time_point received) noexcept;

 private:
  void uevent(const Uevent& event, Clock::time_point received) noexcept override { handle(event, received); }
  void uevents_lost(const std::string& why) noexcept override;
  std::string describe(uint32_t path_nr, const Uevent& event) const;
  void restack(uint32_t path_nr);

  std::vector<const Path*> paths_;
  FailPath fail_;
  Reporter& reporter_;
  const std::string sysfs_root_;
  std::vector<std::vector<dev_t>> stacks_;  // per path; touched only on the monitor thread once subscribed
  std::unique_ptr<UeventSubscription> subscription_;
};

}  // namespace tcmu_switch
