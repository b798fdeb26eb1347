#include "path_uevents.h"

#include <algorithm>

#include "block_stack.h"

namespace tcmu_switch {
namespace {

std::string stack_text(const std::vector<dev_t>& stack) {
  std::string text;
  for (dev_t dev : stack) text += (text.empty() ? "" : " ") + devnum_text(dev);
  return text;
}

}  // namespace

PathUevents::PathUevents(std::span<Path* const> paths, FailPath fail, Reporter& reporter, std::string sysfs_root)
    : paths_(paths.begin(), paths.end()), fail_(std::move(fail)), reporter_(reporter),
      sysfs_root_(std::move(sysfs_root)), stacks_(paths.size()) {
  for (uint32_t i = 0; i < paths_.size(); i++) restack(i);
}

Status PathUevents::listen() {
  auto subscription = UeventSubscription::subscribe(*this);
  if (!subscription.ok()) return subscription.status();
  subscription_ = std::move(subscription).value();
  return {};
}

void PathUevents::restack(uint32_t path_nr) {
  const auto dev = paths_[path_nr]->block_device();
  stacks_[path_nr] = dev ? block_stack(*dev, sysfs_root_) : std::vector<dev_t>{};
}

std::string PathUevents::describe(uint32_t path_nr, const Uevent& event) const {
  const PathConfig& config = paths_[path_nr]->config();
  std::string what = "path " + std::to_string(path_nr) + " (" + config.name + ", " + config.device +
                     "): uevent " + event.action + " of " + devnum_text(event.devnum);
  if (!event.devname.empty()) what += " (" + event.devname + (event.dm_name.empty() ? "" : " " + event.dm_name) + ")";
  if (event.devnum != stacks_[path_nr].front()) what += ", which it sits on";
  return what;
}

void PathUevents::handle(const Uevent& event, Clock::time_point received) noexcept {
  const BlockEvent kind = block_event(event);
  if (kind == BlockEvent::kNone) return;
  for (uint32_t i = 0; i < paths_.size(); i++) {
    const std::vector<dev_t>& stack = stacks_[i];
    if (std::find(stack.begin(), stack.end(), event.devnum) == stack.end()) continue;
    switch (kind) {
      case BlockEvent::kGone:
        if (fail_(i)) {
          const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - received).count();
          reporter_.report(LogLevel::kWarning, describe(i, event) + ": path failed " + std::to_string(us) +
                                                   " us after the uevent arrived");
        } else {  // an I/O error, the administrator or an earlier event was first
          reporter_.report(LogLevel::kInfo, describe(i, event) + ": already " +
                                                path_state_name(paths_[i]->state()));
        }
        break;
      case BlockEvent::kBack:
        reporter_.report(LogLevel::kInfo, describe(i, event) + ": the prober retries it");
        break;
      case BlockEvent::kChanged:
        if (event.devnum == stack.front()) {
          const std::string before = stack_text(stack);
          restack(i);
          if (stack_text(stacks_[i]) != before)
            reporter_.report(LogLevel::kInfo, describe(i, event) + ": now over " + stack_text(stacks_[i]) +
                                                  " (was " + before + ")");
        }
        break;
      case BlockEvent::kNone: break;
    }
  }
}

void PathUevents::uevents_lost(const std::string& why) noexcept {
  reporter_.report(LogLevel::kWarning, "uevents: " + why + ": a path device may have gone unnoticed until its "
                                       "next I/O error");
}

}  // namespace tcmu_switch
