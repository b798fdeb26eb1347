// The io_uring worker: one ring per lane, shared by every device attached to
// the engine. Requests name their path's fd itself, not a registered file:
// on 6.1 a file taken out of a ring's table is released up to a second later
// (io_rsrc_node_ref_zero's delayed put), so a closed LUN would keep its block
// devices busy past its close and a `dmsetup remove` right after it would
// fail; at 4 KiB the registered files bought nothing measurable here.
//
// Whoever holds the ring issues what is queued, submits and reaps. The hold
// is taken with a try, never waited for: a thread that finds the ring held
// leaves its requests in the inbox, and the holder takes them before it lets
// go. Usually the holder is the thread that submits
// the command, so a request the path completes at once (a RAM disk, the page
// cache) is reaped on return from the submitting system call and its command
// completes on that thread, with no hand-off.
//
// The ring's completion queue has room for kLaneInflight requests (and the
// wake-up's no-ops); more wait in the holder's backlog until completions make
// room, so the kernel never has a completion it cannot post, however many
// LUNs share the lane.
//
// The worker thread is there for completions that arrive later, and sleeps
// in one of two ways:
// - Counting. When every command in flight on the lane still needs two or
//   more completions (GroupsInFlight), the holder letting go freezes the
//   lane: it records the completion-queue tail by which the first of them can
//   have finished, and from then on nobody reaps but the worker. The worker
//   waits in io_uring_enter for exactly the completions that take the queue
//   there (the kernel counts from the head, which nobody moves meanwhile), so
//   a command split into pieces costs it one wake-up, not one per piece. A
//   holder that issues a command which can finish sooner, or that needs room
//   only the worker's reaping makes, posts no-ops up to that tail to wake it
//   now.
// - Signalled. Otherwise it sleeps on an eventfd that the ring signals for
//   each completion posted while nobody holds the ring; a holder reaps by
//   itself, so it turns the signal off while it holds the ring. A freeze
//   that finds the worker asleep here leaves the signal on: the next
//   completion wakes it, and it counts the rest.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "groups_in_flight.h"
#include "io_worker.h"
#include "uring_setup.h"

namespace tcmu_switch {
namespace {

// The submission queue need not hold every request: a full SQ is handed to
// the kernel, which frees it (get_sqe). 4096 entries fill 256 KiB of SQEs.
constexpr unsigned kSubmissionEntries = 4096;
// The completion queue's size (128 KiB of CQEs): a lane carries many LUNs'
// queues, each far shallower. A wake-up posts at most kTracked no-ops (the
// count a frozen lane waits for) and keeps room for them.
constexpr unsigned kCompletionEntries = 8192;
constexpr unsigned kLaneInflight = kCompletionEntries - GroupsInFlight::kTracked;
// The kernel posts a completion and then reads whether to signal, with no
// full barrier between the two, so a signal turned on just then can be
// missed. While requests are in flight the worker looks at the ring at least
// this often rather than sleep forever on a wake-up that may not come.
constexpr int kInflightPollMs = 20;

class UringWorker final : public IoWorker {
 public:
  explicit UringWorker(uint32_t worker_nr) : IoWorker(worker_nr) {}
  ~UringWorker() override {
    stop();
    if (ring_ready_) io_uring_queue_exit(&ring_);
  }

  Status init() {
    if (!has_eventfd()) return Status::error(std::string("eventfd: ") + std::strerror(errno));
    int rc = init_ring(io_uring_queue_init_params, kSubmissionEntries, kCompletionEntries, ring_, &setup_flags_);
    if (rc < 0) return Status::error(std::string("io_uring_queue_init: ") + std::strerror(-rc));
    ring_ready_ = true;
    rc = io_uring_register_eventfd(&ring_, event_fd_);
    if (rc < 0) return Status::error(std::string("io_uring_register_eventfd: ") + std::strerror(-rc));
    return {};
  }

  std::string describe_setup() const override {
    return "io_uring set-up flags: " + ring_flag_names(setup_flags_) +
           " (SINGLE_ISSUER and DEFER_TASKRUN not used: any submitting thread issues on a lane's ring); " +
           std::to_string(kLaneInflight) + " requests in flight per lane";
  }

  void submit(IoRequest* list) noexcept override {
    push_all(list);
    (void)serve();
  }

 private:
  void run() noexcept override {
    bool woken = false;
    for (;;) {
      thaw_if_counted();
      const uint64_t served = serve();
      if (woken) count_wakeup(served == 0);
      if (stopping() && inflight_.load(std::memory_order_relaxed) == 0 && inbox_.empty()) break;
      woken = sleep();
    }
  }

  // Runs the ring unless another thread holds it. demand_ counts the calls
  // since the holder took the ring; the holder lets go only by bringing it
  // back to 0 from the count it has seen, so a call that came meanwhile (its
  // requests already in the inbox) makes it go round once more. Returns the
  // requests this call issued and reaped (0 when another thread held the ring).
  uint64_t serve() noexcept {
    uint32_t seen = demand_.fetch_add(1, std::memory_order_acq_rel);
    if (seen != 0) return 0;
    seen = 1;
    const uint64_t served_before = served_;
    uint64_t served = 0;
    do {
      io_uring_cq_eventfd_toggle(&ring_, false);  // the holder reaps by itself
      pump();
      if (!frozen()) {
        // Completions posted from here on signal the worker thread; the
        // ones posted while the signal was off are reaped here.
        io_uring_cq_eventfd_toggle(&ring_, true);
        reap();
        freeze_if_worthwhile();
      }
      if (frozen()) signal_if_polling();
      served = served_ - served_before;  // read while held: served_ is the holder's
    } while (more_to_do() || !demand_.compare_exchange_strong(seen, 0, std::memory_order_acq_rel));
    return served;
  }

  // REQUIRES: the ring held.
  bool more_to_do() noexcept {
    return io_uring_sq_ready(&ring_) > 0 || !inbox_.empty() || (backlog_.head != nullptr && has_room());
  }
  bool has_room() const noexcept { return inflight_.load(std::memory_order_relaxed) < kLaneInflight; }

  // REQUIRES: the ring held.
  void pump() noexcept {
    do {
      backlog_.append(inbox_.take_all());
      while (backlog_.head != nullptr && has_room()) issue(backlog_.pop());
      if (frozen()) wake_worker_if_due();
      if (io_uring_sq_ready(&ring_) > 0) {
        const int rc = io_uring_submit(&ring_);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) report_once(rc, *last_issued_);
      }
      if (!frozen()) reap();
    } while (more_to_do());
  }

  bool frozen() const noexcept { return freeze_.load(std::memory_order_acquire) != 0; }
  uint32_t cq_head() const noexcept { return io_uring_smp_load_acquire(ring_.cq.khead); }
  uint32_t cq_tail() const noexcept { return io_uring_smp_load_acquire(ring_.cq.ktail); }

  // Freezes the lane when no command in flight can finish on the next
  // completion: the worker then sleeps until the first one can.
  // REQUIRES: the ring held, not frozen, every posted completion reaped.
  void freeze_if_worthwhile() noexcept {
    const uint32_t fewest = groups_.fewest_left();
    if (fewest < 2) return;  // the next completion may finish a command: signalled
    freeze_.store(kFrozen | (cq_head() + fewest), std::memory_order_seq_cst);
  }

  // On a frozen lane the completions are the worker's. A worker that counts
  // needs no signal; one asleep on the eventfd (it went to sleep before the
  // freeze) is signalled by the next completion, or at once for one already
  // posted, and then counts the rest.
  // REQUIRES: the ring held, frozen.
  void signal_if_polling() noexcept {
    // Pairs with sleep(): the worker sees the freeze, or we see it polling.
    const bool polling = polling_.load(std::memory_order_seq_cst);
    io_uring_cq_eventfd_toggle(&ring_, polling);
    if (polling && cq_tail() != cq_head()) interrupt();
  }

  // On a frozen lane: wakes the worker now when a command just issued can
  // finish before the position it waits for, or when requests wait for room
  // that only its reaping makes. (A worker counting when the engine stops
  // needs no wake-up: nothing is in flight then, so its count was reached.)
  // REQUIRES: the ring held, frozen.
  void wake_worker_if_due() noexcept {
    const uint32_t target = static_cast<uint32_t>(freeze_.load(std::memory_order_acquire));
    const bool sooner = groups_.fewest_left() < target - cq_head();  // the head is frozen
    if (!sooner && backlog_.head == nullptr) return;
    for (auto due = static_cast<int32_t>(target - cq_tail()); due > 0; due--) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) break;  // the submission queue is full of requests: their completions count too
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data(sqe, nullptr);
      inflight_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Sleeps until the lane's next command can have finished. True when it
  // slept and was woken (not the in-flight timeout).
  bool sleep() noexcept {
    polling_.store(true, std::memory_order_seq_cst);
    const uint64_t freeze = freeze_.load(std::memory_order_seq_cst);
    if (freeze == 0) {
      const bool woken = wait_for_signal();
      polling_.store(false, std::memory_order_relaxed);
      return woken;
    }
    polling_.store(false, std::memory_order_relaxed);
    if (thaw_if_counted()) return false;
    // The kernel counts from the head, which nobody moves while frozen.
    const uint32_t due = static_cast<uint32_t>(freeze) - cq_head();
    io_uring_enter(static_cast<unsigned>(ring_.ring_fd), 0, due, IORING_ENTER_GETEVENTS, nullptr);
    thaw();
    return true;
  }

  // The worker's: ends a freeze whose completions are all posted, so that
  // they are reaped (by it or by a holder). True if it did.
  bool thaw_if_counted() noexcept {
    const uint64_t freeze = freeze_.load(std::memory_order_acquire);
    if (freeze == 0 || static_cast<int32_t>(static_cast<uint32_t>(freeze) - cq_tail()) > 0) return false;
    thaw();
    return true;
  }
  void thaw() noexcept {
    // Signals of the counted completions (posted while it was polling) are
    // stale: the worker reaps them all next, or has a holder reap them.
    (void)take_signal(0);
    freeze_.store(0, std::memory_order_release);  // holders reap again
  }

  // True when the eventfd woke it (not the in-flight timeout).
  bool wait_for_signal() noexcept {
    return take_signal(inflight_.load(std::memory_order_relaxed) > 0 ? kInflightPollMs : -1);
  }
  // Waits up to timeout_ms (-1: for ever) for the eventfd and clears it.
  // True if it was signalled.
  bool take_signal(int timeout_ms) noexcept {
    pollfd pfd{event_fd_, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return false;
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(event_fd_, &count, sizeof(count));
    return true;
  }

  // A free SQE, or the error to fail the request with when the kernel takes
  // no more work and has none in flight whose completion would make room (or,
  // on a frozen lane, when only the worker may reap).
  // REQUIRES: the ring held.
  io_uring_sqe* get_sqe(const IoTarget& target, int* error) noexcept {
    for (;;) {
      if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
      // The SQ is full: handing it to the kernel frees its entries.
      const int rc = io_uring_submit(&ring_);
      if (rc > 0 || rc == -EINTR) continue;
      // The kernel took nothing (-EAGAIN: no memory for requests; -EBUSY:
      // completions it could not post). Finished requests free both: wait
      // for one and reap, never spin.
      report_once(rc, target);
      if (frozen() || inflight_.load(std::memory_order_relaxed) <= io_uring_sq_ready(&ring_)) {
        *error = rc < 0 ? rc : -EAGAIN;
        return nullptr;
      }
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe(&ring_, &cqe);
      reap();
    }
  }

  // REQUIRES: the ring held.
  void issue(IoRequest* req) noexcept {
    int error = 0;
    io_uring_sqe* sqe = get_sqe(*req->target, &error);
    if (sqe == nullptr) {
      req->target->completion->io_done(req, error);
      return;
    }
    const Path& path = path_of(*req);
    const int file = req->buffered ? path.buffered_fd() : path.fd();
    const uint64_t off = file_offset(*req);
    switch (req->op) {
      case IoOp::kRead:
        io_uring_prep_readv(sqe, file, req->iov, req->iov_cnt, off);
        break;
      case IoOp::kWrite:
        io_uring_prep_writev(sqe, file, req->iov, req->iov_cnt, off);
        sqe->rw_flags = req->rw_flags;
        break;
      case IoOp::kFlush:
        io_uring_prep_fsync(sqe, file, 0);
        break;
      case IoOp::kUnmap:
        io_uring_prep_fallocate(sqe, file, unmap_mode(*req), off, req->len);
        break;
    }
    io_uring_sqe_set_data(sqe, req);
    last_issued_ = req->target;
    inflight_.fetch_add(1, std::memory_order_relaxed);
    groups_.issued(req->group);
    served_++;
  }

  // Short transfers go back to the backlog (never straight into the SQ:
  // get_sqe may reap); finished requests go to their device's completion,
  // which may submit retries to the inbox. serve() issues both. A wake-up's
  // no-ops carry no request.
  // REQUIRES: the ring held, not frozen (or the worker, ending its freeze).
  void reap() noexcept {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      seen++;
      inflight_.fetch_sub(1, std::memory_order_relaxed);
      auto* req = static_cast<IoRequest*>(io_uring_cqe_get_data(cqe));
      if (req == nullptr) continue;
      served_++;
      groups_.reaped(req->group);
      if (!settle(req, cqe->res)) backlog_.append(req);
    }
    io_uring_cq_advance(&ring_, seen);
  }

  // Told to the device whose request met the error: the engine has no log of
  // its own, it outlives no device.
  void report_once(int rc, const IoTarget& target) noexcept {
    if (reported_) return;
    reported_ = true;
    target.reporter->report(LogLevel::kError, "io_uring worker " + std::to_string(worker_nr_) +
                                                  ": io_uring_submit: " + std::strerror(-rc));
  }

  // Requests taken from the inbox and not yet issued (the ring is full), in
  // order. REQUIRES: the ring held.
  struct Backlog {
    IoRequest* head = nullptr;
    IoRequest* tail = nullptr;
    void append(IoRequest* list) noexcept {
      if (list == nullptr) return;
      (head == nullptr ? head : tail->next) = list;
      for (tail = list; tail->next != nullptr;) tail = tail->next;
    }
    IoRequest* pop() noexcept {
      IoRequest* req = head;
      head = req->next;
      req->next = nullptr;
      return req;
    }
  };

  static constexpr uint64_t kFrozen = uint64_t{1} << 32;

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;  // the optional set-up flags the kernel took
  Backlog backlog_;
  GroupsInFlight groups_;  // the ring holder's
  const IoTarget* last_issued_ = nullptr;  // who hears of a failed submit
  bool reported_ = false;
  uint64_t served_ = 0;  // requests issued + completions reaped; the ring holder's only
  std::atomic<uint32_t> demand_{0};
  std::atomic<size_t> inflight_{0};  // requests and no-ops issued, not reaped
  // 0, or kFrozen | the completion-queue tail by which a command in flight
  // can have finished. Set by a holder, cleared by the worker once awake.
  std::atomic<uint64_t> freeze_{0};
  std::atomic<bool> polling_{false};  // the worker sleeps (or is about to) on the eventfd
};

}  // namespace

Result<std::unique_ptr<IoWorker>> make_uring_worker(uint32_t worker_nr) {
  auto worker = std::make_unique<UringWorker>(worker_nr);
  if (Status s = worker->init(); !s.ok()) return s;
  return std::unique_ptr<IoWorker>(std::move(worker));
}

}  // namespace tcmu_switch
