#include "io_engine.h"

#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "io_worker.h"

namespace tcmu_switch {
namespace {

using Workers = std::vector<std::unique_ptr<IoWorker>>;

Result<Workers> create_workers(EngineKind kind, uint32_t nr_workers, uint32_t file_slots) {
  Workers workers;
  for (uint32_t i = 0; i < nr_workers; i++) {
    auto worker = kind == EngineKind::kIoUring ? make_uring_worker(i, file_slots) : make_sync_worker(i);
    if (!worker.ok()) return worker.status().with_context(std::string(engine_name(kind)) + " engine");
    workers.push_back(std::move(worker).value());
  }
  return workers;
}

// The kernel refuses a table of registered files larger than the open-file limit.
uint32_t default_file_slots() {
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) return 0;
  return static_cast<uint32_t>(std::min<rlim_t>(kMaxFileSlots, nofile.rlim_cur));
}

// The engines shared in this process, by kind and number of workers.
struct SharedEngines {
  std::mutex mutex;
  std::map<std::pair<EngineKind, uint32_t>, std::weak_ptr<IoEngine>> engines;

  std::shared_ptr<IoEngine> find(EngineKind kind, uint32_t nr_workers) {
    auto it = engines.find({kind, nr_workers});
    return it == engines.end() ? nullptr : it->second.lock();
  }
};

SharedEngines& shared_engines() {
  static SharedEngines engines;
  return engines;
}

}  // namespace

Result<std::unique_ptr<IoEngine>> IoEngine::create(EngineKind kind, uint32_t nr_workers, Reporter& reporter,
                                                   uint32_t file_slots) {
  if (file_slots == 0) file_slots = default_file_slots();
  const EngineKind first = kind == EngineKind::kAuto ? EngineKind::kIoUring : kind;
  auto workers = create_workers(first, nr_workers, file_slots);
  EngineKind chosen = first;
  if (kind == EngineKind::kAuto) {
    // The admin asked us to choose: say what we chose, and why when it is the fallback.
    if (workers.ok()) {
      reporter.report(LogLevel::kInfo, "engine = auto: io_uring");
    } else {
      reporter.report(LogLevel::kWarning, "engine = auto: " + workers.status().message() + "; using sync");
      chosen = EngineKind::kSync;
      workers = create_workers(chosen, nr_workers, file_slots);
    }
  } else if (!workers.ok() && kind == EngineKind::kIoUring) {
    // The engine asked for is the engine used, or the device does not open.
    return Status::error("engine = io_uring, but " + workers.status().message() +
                         " (the kernel or a sandbox refuses io_uring); engine = auto would fall back to sync");
  }
  if (!workers.ok()) return workers.status();
  std::unique_ptr<IoEngine> engine(new IoEngine(chosen));
  engine->workers_ = std::move(workers).value();
  // Every lane is set up alike: said once per engine.
  if (!engine->workers_.empty()) {
    const IoWorker& lane = *engine->workers_.front();
    if (const std::string setup = lane.describe_setup(); !setup.empty()) reporter.report(LogLevel::kInfo, setup);
    engine->slot_used_.assign(lane.file_slots(), false);
  }
  for (auto& w : engine->workers_) w->start();
  return engine;
}

Result<std::shared_ptr<IoEngine>> IoEngine::shared(EngineKind kind, uint32_t nr_workers, Reporter& reporter) {
  SharedEngines& all = shared_engines();
  std::lock_guard lock(all.mutex);
  std::shared_ptr<IoEngine> engine;
  if (kind == EngineKind::kAuto) {
    engine = all.find(EngineKind::kIoUring, nr_workers);
    if (engine == nullptr) engine = all.find(EngineKind::kSync, nr_workers);
  } else {
    engine = all.find(kind, nr_workers);
  }
  if (engine != nullptr) {
    reporter.report(LogLevel::kInfo, std::string("engine = ") + engine_name(kind) + ": sharing the running " +
                                         engine_name(engine->kind()) + " engine (" + std::to_string(nr_workers) +
                                         " workers, " + std::to_string(engine->nr_targets()) + " LUNs on it)");
    return engine;
  }
  auto created = create(kind, nr_workers, reporter);
  if (!created.ok()) return created.status();
  engine = std::move(created).value();
  all.engines[{engine->kind(), nr_workers}] = engine;
  return engine;
}

IoEngine::IoEngine(EngineKind kind) : kind_(kind) {}

IoEngine::~IoEngine() {
  for (auto& w : workers_) w->stop();
}

size_t IoEngine::nr_targets() const {
  std::lock_guard lock(mutex_);
  return nr_targets_;
}

uint64_t IoEngine::wakeups() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->wakeups();
  return n;
}

uint64_t IoEngine::idle_wakeups() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->idle_wakeups();
  return n;
}

uint32_t IoEngine::find_free_slots(size_t n) const {
  size_t run = 0;
  for (size_t i = 0; i < slot_used_.size(); i++) {
    run = slot_used_[i] ? 0 : run + 1;
    if (run == n) return static_cast<uint32_t>(i + 1 - n);
  }
  return kUnregisteredFiles;
}

void IoEngine::attach(IoTarget& target) {
  std::vector<int> fds;
  for (const Path* p : target.paths) {
    fds.push_back(p->fd());
    fds.push_back(p->buffered_fd());
  }
  std::lock_guard lock(mutex_);
  nr_targets_++;
  target.file_base = kUnregisteredFiles;
  if (slot_used_.empty()) return;  // the sync engine, or rings without registered files
  const uint32_t base = find_free_slots(fds.size());
  if (base == kUnregisteredFiles) {
    target.reporter->report(LogLevel::kWarning, "no " + std::to_string(fds.size()) +
                                                    " free registered-file slots of " +
                                                    std::to_string(slot_used_.size()) + ": plain fds");
    return;
  }
  for (size_t i = 0; i < workers_.size(); i++) {
    if (Status s = workers_[i]->set_files(base, fds); !s.ok()) {
      const std::vector<int> empty(fds.size(), -1);
      for (size_t j = 0; j < i; j++) (void)workers_[j]->set_files(base, empty);
      target.reporter->report(LogLevel::kWarning, s.message() + ": plain fds");
      return;
    }
  }
  std::fill_n(slot_used_.begin() + base, fds.size(), true);
  target.file_base = base;
}

void IoEngine::detach(IoTarget& target) noexcept {
  std::lock_guard lock(mutex_);
  nr_targets_--;
  if (target.file_base == kUnregisteredFiles) return;
  const size_t n = target.paths.size() * 2;
  const std::vector<int> empty(n, -1);
  for (auto& w : workers_) (void)w->set_files(target.file_base, empty);
  std::fill_n(slot_used_.begin() + target.file_base, n, false);
  target.file_base = kUnregisteredFiles;
}

void IoEngine::submit(uint32_t worker_nr, IoRequest* list) noexcept { workers_[worker_nr]->submit(list); }

}  // namespace tcmu_switch
