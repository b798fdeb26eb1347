#include "io_engine.h"

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "io_worker.h"

namespace tcmu_switch {
namespace {

using Workers = std::vector<std::unique_ptr<IoWorker>>;

Result<Workers> create_workers(EngineKind kind, uint32_t nr_workers) {
  Workers workers;
  for (uint32_t i = 0; i < nr_workers; i++) {
    auto worker = kind == EngineKind::kIoUring ? make_uring_worker(i) : make_sync_worker(i);
    if (!worker.ok()) return worker.status().with_context(std::string(engine_name(kind)) + " engine");
    workers.push_back(std::move(worker).value());
  }
  return workers;
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

Result<std::unique_ptr<IoEngine>> IoEngine::create(EngineKind kind, uint32_t nr_workers, Reporter& reporter) {
  const EngineKind first = kind == EngineKind::kAuto ? EngineKind::kIoUring : kind;
  auto workers = create_workers(first, nr_workers);
  EngineKind chosen = first;
  if (kind == EngineKind::kAuto) {
    // The admin asked us to choose: say what we chose, and why when it is the fallback.
    if (workers.ok()) {
      reporter.report(LogLevel::kInfo, "engine = auto: io_uring");
    } else {
      reporter.report(LogLevel::kWarning, "engine = auto: " + workers.status().message() + "; using sync");
      chosen = EngineKind::kSync;
      workers = create_workers(chosen, nr_workers);
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
  if (!engine->workers_.empty())
    if (const std::string setup = engine->workers_.front()->describe_setup(); !setup.empty())
      reporter.report(LogLevel::kInfo, setup);
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
                                         " workers, " + std::to_string(engine->nr_devices()) + " LUNs on it)");
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

void IoEngine::submit(uint32_t worker_nr, IoRequest* list) noexcept { workers_[worker_nr]->submit(list); }

uint32_t IoEngine::lane_of_calling_thread() const noexcept {
  static std::atomic<uint32_t> next_ticket{0};
  thread_local const uint32_t ticket = next_ticket.fetch_add(1, std::memory_order_relaxed);
  return ticket % nr_workers();
}

}  // namespace tcmu_switch
