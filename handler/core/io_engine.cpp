#include "io_engine.h"

#include <string>

#include "io_worker.h"

namespace tcmu_switch {
namespace {

using Workers = std::vector<std::unique_ptr<IoWorker>>;

Result<Workers> create_workers(EngineKind kind, uint32_t nr_workers, std::span<Path* const> paths,
                               size_t queue_capacity, IoCompletion& completion, Reporter& reporter) {
  Workers workers;
  for (uint32_t i = 0; i < nr_workers; i++) {
    const WorkerContext ctx{i, paths, queue_capacity, &completion, &reporter};
    auto worker = kind == EngineKind::kIoUring ? make_uring_worker(ctx) : make_sync_worker(ctx);
    if (!worker.ok()) return worker.status().with_context(std::string(engine_name(kind)) + " engine");
    workers.push_back(std::move(worker).value());
  }
  return workers;
}

}  // namespace

Result<std::unique_ptr<IoEngine>> IoEngine::create(EngineKind kind, uint32_t nr_workers,
                                                   std::span<Path* const> paths, size_t queue_capacity,
                                                   IoCompletion& completion, Reporter& reporter) {
  if (queue_capacity == 0 || queue_capacity > kMaxQueueCapacity)
    return Status::error("I/O queue of " + std::to_string(queue_capacity) + " requests: must be 1.." +
                         std::to_string(kMaxQueueCapacity));
  const EngineKind first = kind == EngineKind::kAuto ? EngineKind::kIoUring : kind;
  auto workers = create_workers(first, nr_workers, paths, queue_capacity, completion, reporter);
  EngineKind chosen = first;
  if (kind == EngineKind::kAuto) {
    // The admin asked us to choose: say what we chose, and why when it is the fallback.
    if (workers.ok()) {
      reporter.report(LogLevel::kInfo, "engine = auto: io_uring");
    } else {
      reporter.report(LogLevel::kWarning, "engine = auto: " + workers.status().message() + "; using sync");
      chosen = EngineKind::kSync;
      workers = create_workers(chosen, nr_workers, paths, queue_capacity, completion, reporter);
    }
  } else if (!workers.ok() && kind == EngineKind::kIoUring) {
    // The engine asked for is the engine used, or the device does not open.
    return Status::error("engine = io_uring, but " + workers.status().message() +
                         " (the kernel or a sandbox refuses io_uring); engine = auto would fall back to sync");
  }
  if (!workers.ok()) return workers.status();
  // Every lane is set up alike: said once per engine.
  if (!workers.value().empty())
    if (const std::string setup = workers.value().front()->describe_setup(); !setup.empty())
      reporter.report(LogLevel::kInfo, setup);
  std::unique_ptr<IoEngine> engine(new IoEngine(chosen));
  engine->workers_ = std::move(workers).value();
  for (auto& w : engine->workers_) w->start();
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

}  // namespace tcmu_switch
