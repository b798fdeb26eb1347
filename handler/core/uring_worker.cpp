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
// The ring's completion queue has room for kLaneInflight requests; more wait
// in the holder's backlog until completions make room, so the kernel never
// has a completion it cannot post, however many LUNs share the lane.
//
// The worker thread is there for completions that arrive later. It sleeps on
// an eventfd that the ring signals for each completion posted while nobody
// holds the ring; a holder reaps by itself, so it turns the signal off while
// it holds the ring.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "io_worker.h"
#include "uring_setup.h"

namespace tcmu_switch {
namespace {

// The submission queue need not hold every request: a full SQ is handed to
// the kernel, which frees it (get_sqe). 4096 entries fill 256 KiB of SQEs.
constexpr unsigned kSubmissionEntries = 4096;
// Requests in flight on one ring, and its completion queue's size (128 KiB of
// CQEs): a lane carries many LUNs' queues, each far shallower.
constexpr unsigned kLaneInflight = 8192;
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
    int rc = init_ring(io_uring_queue_init_params, kSubmissionEntries, kLaneInflight, ring_, &setup_flags_);
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
      const uint64_t served = serve();
      if (woken) count_wakeup(served == 0);
      if (stopping() && inflight_.load(std::memory_order_relaxed) == 0 && inbox_.empty()) break;
      woken = wait_for_signal();
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
      // Completions posted from here on wake the worker thread; the ones
      // posted while the signal was off are reaped here.
      io_uring_cq_eventfd_toggle(&ring_, true);
      reap();
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
      if (io_uring_sq_ready(&ring_) > 0) {
        const int rc = io_uring_submit(&ring_);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) report_once(rc, *last_issued_);
      }
      reap();
    } while (more_to_do());
  }

  // True when the eventfd woke it (not the in-flight timeout).
  bool wait_for_signal() noexcept {
    pollfd pfd{event_fd_, POLLIN, 0};
    const int timeout = inflight_.load(std::memory_order_relaxed) > 0 ? kInflightPollMs : -1;
    if (poll(&pfd, 1, timeout) <= 0) return false;
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(event_fd_, &count, sizeof(count));
    return true;
  }

  // A free SQE, or the error to fail the request with when the kernel takes
  // no more work and has none in flight whose completion would make room.
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
      if (inflight_.load(std::memory_order_relaxed) <= io_uring_sq_ready(&ring_)) {
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
    served_++;
  }

  // Short transfers go back to the backlog (never straight into the SQ:
  // get_sqe may reap); finished requests go to their device's completion,
  // which may submit retries to the inbox. serve() issues both.
  // REQUIRES: the ring held.
  void reap() noexcept {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      seen++;
      served_++;
      auto* req = static_cast<IoRequest*>(io_uring_cqe_get_data(cqe));
      inflight_.fetch_sub(1, std::memory_order_relaxed);
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

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;  // the optional set-up flags the kernel took
  Backlog backlog_;
  const IoTarget* last_issued_ = nullptr;  // who hears of a failed submit
  bool reported_ = false;
  uint64_t served_ = 0;  // requests issued + completions reaped; the ring holder's only
  std::atomic<uint32_t> demand_{0};
  std::atomic<size_t> inflight_{0};
};

}  // namespace

Result<std::unique_ptr<IoWorker>> make_uring_worker(uint32_t worker_nr) {
  auto worker = std::make_unique<UringWorker>(worker_nr);
  if (Status s = worker->init(); !s.ok()) return s;
  return std::unique_ptr<IoWorker>(std::move(worker));
}

}  // namespace tcmu_switch
