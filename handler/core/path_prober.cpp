// One thread probes for every PathProber of the process. Probers subscribe
// and unsubscribe under the thread's mutex; the thread probes with it
// released, marking the prober it is busy with, and an unsubscribing prober
// waits until it is not that one. The thread starts with the first
// subscription and is joined by the last unsubscription (lifecycle_ orders
// the two, so a LUN opening while the last one closes gets a fresh thread).
#include "path_prober.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace tcmu_switch {
namespace {

constexpr size_t kPageBytes = 4096;
// One page at the path's offset: every path holds at least the LUN there.
constexpr size_t kProbeBytes = 4096;

}  // namespace

class ProbeThread {
 public:
  void subscribe(PathProber* prober) {
    std::lock_guard lifecycle(lifecycle_);
    {
      std::lock_guard lock(mutex_);
      prober->next_due_ = PathProber::Clock::now() + prober->interval_;
      probers_.push_back(prober);
    }
    cv_.notify_all();
    if (!thread_.joinable()) start();
  }

  void unsubscribe(PathProber* prober) {
    std::lock_guard lifecycle(lifecycle_);
    {
      std::unique_lock lock(mutex_);
      std::erase(probers_, prober);
      cv_.wait(lock, [&] { return busy_ != prober; });
      if (!probers_.empty()) return;
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void start() {
    stop_ = false;
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "switch-probe");
  }

  void run() {
    void* block = nullptr;
    if (posix_memalign(&block, kPageBytes, kProbeBytes) != 0) std::abort();  // 4 KiB at start-up
    std::unique_lock lock(mutex_);
    while (!stop_) {
      PathProber* due = earliest();
      if (due == nullptr) {
        cv_.wait(lock);
        continue;
      }
      // A copy: wait_until keeps reading its deadline, and `due` may
      // unsubscribe and be freed while the lock is released.
      if (const auto deadline = due->next_due_; PathProber::Clock::now() < deadline) {
        cv_.wait_until(lock, deadline);  // or a subscription changed: look again
        continue;
      }
      busy_ = due;
      lock.unlock();
      due->probe_failed(block);
      lock.lock();
      due->next_due_ = PathProber::Clock::now() + due->interval_;
      busy_ = nullptr;
      cv_.notify_all();  // an unsubscriber may wait for it
    }
    std::free(block);
  }

  PathProber* earliest() const {
    auto it = std::ranges::min_element(probers_, {}, [](const PathProber* p) { return p->next_due_; });
    return it == probers_.end() ? nullptr : *it;
  }

  std::mutex lifecycle_;  // start and join of thread_
  std::mutex mutex_;      // the rest
  std::condition_variable cv_;
  std::vector<PathProber*> probers_;
  PathProber* busy_ = nullptr;
  bool stop_ = false;
  std::thread thread_;
};

namespace {

// Never destroyed: a process that exits with LUNs still open (tcmu-runner
// on SIGTERM) must not run ~thread on a running thread (std::terminate).
ProbeThread& probe_thread() {
  static auto* thread = new ProbeThread;
  return *thread;
}

bool answers(const Path& path, void* block) {
  if (path.backend() != nullptr) return path.backend()->probe(path.config().offset_bytes, kProbeBytes);
  const ssize_t n = pread(path.fd(), block, kProbeBytes, static_cast<off_t>(path.config().offset_bytes));
  return n == static_cast<ssize_t>(kProbeBytes);
}

}  // namespace

PathProber::PathProber(std::span<Path* const> paths, uint32_t interval_ms, Restored restored)
    : interval_(interval_ms), paths_(paths), restored_(std::move(restored)) {
  probe_thread().subscribe(this);
}

PathProber::~PathProber() { probe_thread().unsubscribe(this); }

void PathProber::probe_failed(void* block) noexcept {
  for (Path* path : paths_) {
    if (path->state() == PathState::kFailed && answers(*path, block) &&
        path->transition(PathState::kFailed, PathState::kHealthy))
      restored_(path->path_nr());
  }
}

}  // namespace tcmu_switch
