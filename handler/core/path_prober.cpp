#include "path_prober.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <new>

namespace tcmu_switch {
namespace {

constexpr size_t kPageBytes = 4096;
// One page at the path's offset: every path holds at least the LUN there.
constexpr size_t kProbeBytes = 4096;

}  // namespace

PathProber::PathProber(std::span<Path* const> paths, uint32_t interval_ms, Restored restored)
    : paths_(paths), interval_ms_(interval_ms), restored_(std::move(restored)) {
  if (posix_memalign(&block_, kPageBytes, kProbeBytes) != 0) throw std::bad_alloc();
  thread_ = std::thread([this] { run(); });
}

PathProber::~PathProber() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::free(block_);
}

void PathProber::run() {
  const auto interval = std::chrono::milliseconds(interval_ms_);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
    lock.unlock();
    for (Path* path : paths_) {
      if (path->state() == PathState::kFailed && answers(*path) &&
          path->transition(PathState::kFailed, PathState::kHealthy))
        restored_(path->path_nr());
    }
    lock.lock();
  }
}

bool PathProber::answers(const Path& path) {
  if (path.backend() != nullptr) return path.backend()->probe(path.config().offset_bytes, kProbeBytes);
  const ssize_t n = pread(path.fd(), block_, kProbeBytes, static_cast<off_t>(path.config().offset_bytes));
  return n == static_cast<ssize_t>(kProbeBytes);
}

}  // namespace tcmu_switch
