// data_path_bench: the core's data path (SwitchDevice: split at region
// boundaries, route through the table, io_uring or sync engine) driven at a
// fixed queue depth over path files, with no kernel target in the way.
// tests/bench/host_bench.py runs it next to fio on the same files; alone it
// prints one JSON object per run:
//
//   data_path_bench --paths F0,F1,F2 --lun-bytes N --rw randread|randwrite|read|write
//                   --bs BYTES --qd N --workers N --seconds S [--region-sectors N]
//                   [--engine auto|io_uring|sync] [--warmup S] [--range-lock on|off]
//
// --range-lock off lets writes overlap in flight (DeviceLimits::order_writes):
// only to measure what ordering them costs.
//
// One submitter thread plays tcmu-runner's per-device command thread: it keeps
// qd commands in flight and resubmits each as its completion arrives from an
// engine worker. CPU time is getrusage(RUSAGE_SELF) over the measured interval
// (every thread: submitter, workers, io-wq helpers); allocations are counted
// by the malloc family below over the same interval, which is steady state
// only (the device, the buffers and the rings exist before it starts).
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mpmc_queue.h"
#include "switch_device.h"

// ---- allocation counter ----------------------------------------------------
// Every heap allocation of the process (operator new included: libstdc++ calls
// malloc) goes through these and bumps one counter. glibc's __libc_* entry
// points do the real work.
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t align, size_t size);
void __libc_free(void* p);
}

namespace {
std::atomic<uint64_t> g_allocations{0};
void count_allocation() { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

extern "C" {
void* malloc(size_t size) {
  count_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  count_allocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) {
  count_allocation();
  return __libc_realloc(p, size);
}
void* memalign(size_t align, size_t size) {
  count_allocation();
  return __libc_memalign(align, size);
}
void* aligned_alloc(size_t align, size_t size) { return memalign(align, size); }
int posix_memalign(void** out, size_t align, size_t size) {
  void* p = memalign(align, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

namespace tcmu_switch {
namespace {

constexpr size_t kBufferAlign = 4096;

struct Options {
  std::vector<std::string> paths;
  uint64_t lun_bytes = 0;
  std::string rw = "randread";
  uint64_t bs = 4096;
  uint32_t qd = 32;
  uint32_t workers = 2;
  uint64_t region_sectors = 128;
  EngineKind engine = EngineKind::kAuto;
  double seconds = 5;
  double warmup_seconds = 1;
  bool range_lock = true;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "data_path_bench: %s\n", why.c_str());
  std::exit(2);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

EngineKind parse_engine(const std::string& name) {
  if (name == "auto") return EngineKind::kAuto;
  if (name == "io_uring") return EngineKind::kIoUring;
  if (name == "sync") return EngineKind::kSync;
  usage_error("--engine " + name + ": expected auto, io_uring or sync");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage_error(key + " needs a value");
    const std::string value = argv[i + 1];
    if (key == "--paths") o.paths = split_commas(value);
    else if (key == "--lun-bytes") o.lun_bytes = std::stoull(value);
    else if (key == "--rw") o.rw = value;
    else if (key == "--bs") o.bs = std::stoull(value);
    else if (key == "--qd") o.qd = static_cast<uint32_t>(std::stoul(value));
    else if (key == "--workers") o.workers = static_cast<uint32_t>(std::stoul(value));
    else if (key == "--region-sectors") o.region_sectors = std::stoull(value);
    else if (key == "--engine") o.engine = parse_engine(value);
    else if (key == "--seconds") o.seconds = std::stod(value);
    else if (key == "--warmup") o.warmup_seconds = std::stod(value);
    else if (key == "--range-lock" && (value == "on" || value == "off")) o.range_lock = value == "on";
    else usage_error("unknown option " + key);
  }
  if (o.paths.empty() || o.lun_bytes < o.bs || o.bs == 0 || o.qd == 0) usage_error("need --paths and --lun-bytes >= --bs");
  if (o.rw != "randread" && o.rw != "randwrite" && o.rw != "read" && o.rw != "write") usage_error("bad --rw " + o.rw);
  return o;
}

class QuietReporter : public Reporter {
 public:
  void report(LogLevel level, const std::string& message) noexcept override {
    if (level <= LogLevel::kWarning) std::fprintf(stderr, "data_path_bench: %s\n", message.c_str());
  }
};

// One command slot: its buffer stays allocated for the whole run.
struct Slot {
  void* buffer = nullptr;
  iovec iov{};
};

// Completions arrive on engine workers; the submitter sleeps on a futex
// (std::atomic::wait) only when it has nothing to resubmit, and a worker
// issues the wake-up only if it saw the submitter asleep. No wake-up is lost:
// the submitter reads seq_ before it raises sleeping_ and re-checks the queue;
// a worker pushes and bumps seq_ before it reads sleeping_ (all seq_cst), so
// either the re-check finds the slot, or wait() sees seq_ moved, or the
// worker sees sleeping_ and notifies.
class CompletionQueue : public CommandSink {
 public:
  explicit CompletionQueue(size_t capacity) : done_(capacity + 1) {}

  void command_done(void* user, IoStatus status) noexcept override {
    if (status != IoStatus::kOk) errors_.fetch_add(1, std::memory_order_relaxed);
    done_.push(static_cast<Slot*>(user));
    seq_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) seq_.notify_one();
  }

  // Blocks until at least one completion is queued; returns it.
  Slot* next() noexcept {
    Slot* slot = nullptr;
    while (!done_.pop(slot)) {
      const uint32_t seen = seq_.load(std::memory_order_seq_cst);
      sleeping_.store(true, std::memory_order_seq_cst);
      if (done_.pop(slot)) {
        sleeping_.store(false, std::memory_order_relaxed);
        break;
      }
      seq_.wait(seen, std::memory_order_seq_cst);
      sleeping_.store(false, std::memory_order_relaxed);
    }
    return slot;
  }

  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  MpmcQueue<Slot*> done_;
  std::atomic<uint32_t> seq_{0};
  std::atomic<bool> sleeping_{false};
  std::atomic<uint64_t> errors_{0};
};

// Where the next command goes: uniformly random bs-aligned offsets, or one
// sequential stream that wraps at the end of the LUN.
class OffsetSource {
 public:
  explicit OffsetSource(const Options& o) : random_(o.rw.starts_with("rand")), bs_(o.bs), nr_blocks_(o.lun_bytes / o.bs) {}
  uint64_t next() noexcept {
    if (!random_) {
      const uint64_t block = cursor_++ % nr_blocks_;
      return block * bs_;
    }
    // xorshift64*: cheap, allocation-free, good enough to spread offsets.
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return (state_ * 0x2545F4914F6CDD1Dull) % nr_blocks_ * bs_;
  }

 private:
  bool random_;
  uint64_t bs_;
  uint64_t nr_blocks_;
  uint64_t cursor_ = 0;
  uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

struct Snapshot {
  std::chrono::steady_clock::time_point when;
  uint64_t ios = 0;
  uint64_t cpu_us = 0;       // user + system, all threads
  uint64_t sleeps = 0;       // voluntary context switches, all threads: each is a wait for work
  uint64_t allocations = 0;
};

Snapshot take_snapshot(uint64_t ios) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return static_cast<uint64_t>(t.tv_sec) * 1000000 + static_cast<uint64_t>(t.tv_usec); };
  return {std::chrono::steady_clock::now(), ios, us(ru.ru_utime) + us(ru.ru_stime), static_cast<uint64_t>(ru.ru_nvcsw),
          g_allocations.load(std::memory_order_relaxed)};
}

DeviceConfig make_config(const Options& o) {
  DeviceConfig c;
  c.source = "data_path_bench";
  c.region_sectors = o.region_sectors;
  c.mode = Mode::kPlacement;
  c.engine = o.engine;
  c.nr_workers = o.workers;
  for (size_t i = 0; i < o.paths.size(); i++) c.paths.push_back({o.paths[i], 0, "bench" + std::to_string(i)});
  return c;
}

std::vector<Slot> make_slots(const Options& o) {
  std::vector<Slot> slots(o.qd);
  for (Slot& s : slots) {
    if (posix_memalign(&s.buffer, kBufferAlign, o.bs) != 0) usage_error("out of memory for buffers");
    std::memset(s.buffer, 0x5a, o.bs);
    s.iov = {s.buffer, o.bs};
  }
  return slots;
}

// Keeps qd commands in flight: each completion is resubmitted at once to a
// new offset. The device refusing a command (BUSY) is retried at once: it
// cannot happen with qd <= the device's queue depth, and is counted if it does.
class Submitter {
 public:
  Submitter(const Options& o, SwitchDevice& dev, CompletionQueue& done)
      : write_(o.rw.ends_with("write")), bs_(o.bs), offsets_(o), dev_(dev), done_(done) {}

  void submit(Slot& slot) noexcept {
    const uint64_t off = offsets_.next();
    for (;;) {
      const IoStatus s = write_ ? dev_.write(&slot, &slot.iov, 1, off, bs_, false)
                                : dev_.read(&slot, &slot.iov, 1, off, bs_);
      if (s == IoStatus::kOk) return;
      refused_++;
    }
  }

  // Resubmits completions while `keep_going` holds; counts them.
  template <typename Pred>
  void run_while(Pred keep_going) noexcept {
    while (keep_going()) {
      Slot* slot = done_.next();
      completed_++;
      submit(*slot);
    }
  }

  void drain(size_t in_flight) noexcept {
    for (size_t i = 0; i < in_flight; i++) done_.next();
  }

  uint64_t completed() const { return completed_; }
  uint64_t refused() const { return refused_; }

 private:
  bool write_;
  uint64_t bs_;
  OffsetSource offsets_;
  SwitchDevice& dev_;
  CompletionQueue& done_;
  uint64_t completed_ = 0;
  uint64_t refused_ = 0;
};

double per_io(uint64_t total, uint64_t ios) { return ios ? static_cast<double>(total) / static_cast<double>(ios) : 0.0; }

void print_result(const Options& o, const DeviceReport& report, const Snapshot& a, const Snapshot& b,
                  uint64_t refused, uint64_t errors, uint64_t pieces, uint64_t wakeups, uint64_t idle_wakeups) {
  const double secs = std::chrono::duration<double>(b.when - a.when).count();
  const uint64_t ios = b.ios - a.ios;
  const uint64_t cpu_us = b.cpu_us - a.cpu_us;
  const uint64_t allocs = b.allocations - a.allocations;
  const double iops = static_cast<double>(ios) / secs;
  std::printf(
      "{\"rw\": \"%s\", \"bs\": %" PRIu64 ", \"qd\": %u, \"workers\": %u, \"engine\": \"%s\", \"nr_paths\": %zu, "
      "\"region_sectors\": %" PRIu64 ", \"direct\": %s, \"seconds\": %.3f, \"ios\": %" PRIu64 ", \"iops\": %.1f, "
      "\"mb_per_s\": %.1f, \"cpu_us\": %" PRIu64 ", \"cpu_us_per_io\": %.3f, \"cpu_cores\": %.3f, "
      "\"sleeps_per_io\": %.3f, \"allocations\": %" PRIu64 ", \"allocations_per_io\": %.6f, \"pieces_per_io\": %.3f, \"worker_wakeups_per_io\": %.3f, "
      "\"idle_worker_wakeups_per_io\": %.3f, \"busy_retries\": %" PRIu64
      ", \"errors\": %" PRIu64 ", \"range_lock\": %s}\n",
      o.rw.c_str(), o.bs, o.qd, report.nr_workers, engine_name(report.engine), report.paths.size(), o.region_sectors,
      report.paths[0].direct ? "true" : "false", secs, ios, iops, iops * static_cast<double>(o.bs) / 1e6, cpu_us,
      per_io(cpu_us, ios), static_cast<double>(cpu_us) / 1e6 / secs, per_io(b.sleeps - a.sleeps, ios), allocs, per_io(allocs, ios), per_io(pieces, ios),
      per_io(wakeups, ios), per_io(idle_wakeups, ios),
      refused, errors, o.range_lock ? "true" : "false");
}

uint64_t pieces_done(const DeviceReport& r) {
  uint64_t n = 0;
  for (const PathReport& p : r.paths) n += p.stats[PathCounter::kReads] + p.stats[PathCounter::kWrites];
  return n;
}

int run(const Options& o) {
  QuietReporter reporter;
  CompletionQueue done(o.qd);
  // Room for every slot's command, as LIO's hw_queue_depth would give.
  DeviceLimits limits{o.lun_bytes, std::max<uint64_t>(o.bs, 1 << 20), o.qd};
  limits.order_writes = o.range_lock;
  auto opened = SwitchDevice::open(make_config(o), limits, done, reporter);
  if (!opened.ok()) {
    std::fprintf(stderr, "data_path_bench: %s\n", opened.status().message().c_str());
    return 1;
  }
  std::unique_ptr<SwitchDevice> dev = std::move(opened).value();
  std::vector<Slot> slots = make_slots(o);
  Submitter submitter(o, *dev, done);

  using clock = std::chrono::steady_clock;
  const auto warm_until = clock::now() + std::chrono::duration<double>(o.warmup_seconds);
  for (Slot& s : slots) submitter.submit(s);
  submitter.run_while([&] { return clock::now() < warm_until; });

  const DeviceReport report_before = dev->report();
  const uint64_t pieces_before = pieces_done(report_before);
  const Snapshot start = take_snapshot(submitter.completed());
  const auto stop_at = start.when + std::chrono::duration<double>(o.seconds);
  // Reading the clock every command costs ~20 ns (vDSO), far below one I/O.
  submitter.run_while([&] { return clock::now() < stop_at; });
  const Snapshot end = take_snapshot(submitter.completed());
  const DeviceReport report_after = dev->report();
  const uint64_t pieces = pieces_done(report_after) - pieces_before;
  const uint64_t wakeups = report_after.worker_wakeups - report_before.worker_wakeups;
  const uint64_t idle_wakeups = report_after.idle_worker_wakeups - report_before.idle_worker_wakeups;

  submitter.drain(slots.size());
  const DeviceReport report = dev->report();
  dev.reset();
  print_result(o, report, start, end, submitter.refused(), done.errors(), pieces, wakeups, idle_wakeups);
  for (Slot& s : slots) free(s.buffer);
  return done.errors() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tcmu_switch

int main(int argc, char** argv) { return tcmu_switch::run(tcmu_switch::parse_options(argc, argv)); }
