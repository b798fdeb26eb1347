// The io_uring worker: one ring per lane, every path's two fds registered as
// fixed files.
//
// Whoever holds the ring issues what is queued, submits and reaps. The hold
// is taken with a try, never waited for: a thread that finds the ring held
// leaves its requests in the queue, and the holder takes them before it lets
// go. Usually the holder is the thread that submits
// the command, so a request the path completes at once (a RAM disk, the page
// cache) is reaped on return from the submitting system call and its command
// completes on that thread, with no hand-off.
//
// The worker thread is there for completions that arrive later. It sleeps on
// an eventfd that the ring signals for each completion posted while nobody
// holds the ring; a holder reaps by itself, so it turns the signal off while
// it holds the ring.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io_worker.h"
#include "uring_setup.h"

namespace tcmu_switch {
namespace {

// The submission queue need not hold every request: a full SQ is handed to
// the kernel, which frees it (get_sqe). 4096 entries fill 64 KiB of SQEs.
constexpr unsigned kMaxSubmissionEntries = 4096;
// The completion queue does hold every request in flight (kMaxQueueCapacity).
constexpr unsigned kMinRingEntries = 8;
// The kernel posts a completion and then reads whether to signal, with no
// full barrier between the two, so a signal turned on just then can be
// missed. While requests are in flight the worker looks at the ring at least
// this often rather than sleep forever on a wake-up that may not come.
constexpr int kInflightPollMs = 20;

unsigned round_up_pow2(unsigned n) {
  unsigned p = kMinRingEntries;
  while (p < n) p <<= 1;
  return p;
}

class UringWorker final : public IoWorker {
 public:
  explicit UringWorker(const WorkerContext& ctx) : IoWorker(ctx) {}
  ~UringWorker() override {
    stop();
    if (ring_ready_) io_uring_queue_exit(&ring_);
  }

  Status init() {
    if (!has_eventfd()) return Status::error(std::string("eventfd: ") + std::strerror(errno));
    const unsigned cq_entries = round_up_pow2(static_cast<unsigned>(ctx_.queue_capacity));
    const unsigned sq_entries = std::min(cq_entries, kMaxSubmissionEntries);
    int rc = init_ring(io_uring_queue_init_params, sq_entries, cq_entries, ring_, &setup_flags_);
    if (rc < 0) return Status::error(std::string("io_uring_queue_init: ") + std::strerror(-rc));
    ring_ready_ = true;
    std::vector<int> fds;
    for (Path* p : ctx_.paths) {
      fds.push_back(p->fd());
      fds.push_back(p->buffered_fd());
    }
    rc = io_uring_register_files(&ring_, fds.data(), static_cast<unsigned>(fds.size()));
    if (rc < 0) return Status::error(std::string("io_uring_register_files: ") + std::strerror(-rc));
    rc = io_uring_register_eventfd(&ring_, event_fd_);
    if (rc < 0) return Status::error(std::string("io_uring_register_eventfd: ") + std::strerror(-rc));
    return {};
  }

  std::string describe_setup() const override {
    return "io_uring set-up flags: " + ring_flag_names(setup_flags_) +
           " (SINGLE_ISSUER and DEFER_TASKRUN not used: any submitting thread issues on a lane's ring)";
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
      if (stopping() && inflight_.load(std::memory_order_relaxed) == 0 && queue_.empty()) break;
      woken = wait_for_signal();
    }
  }

  // Runs the ring unless another thread holds it. demand_ counts the calls
  // since the holder took the ring; the holder lets go only by bringing it
  // back to 0 from the count it has seen, so a call that came meanwhile (its
  // requests already queued) makes it go round once more. Returns the
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
    } while (io_uring_sq_ready(&ring_) > 0 || !queue_.empty() ||
             !demand_.compare_exchange_strong(seen, 0, std::memory_order_acq_rel));
    return served;
  }

  // REQUIRES: the ring held.
  void pump() noexcept {
    do {
      IoRequest* req = nullptr;
      while (queue_.pop(req)) issue(req);
      if (io_uring_sq_ready(&ring_) > 0) {
        const int rc = io_uring_submit(&ring_);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) report_once(rc);
      }
      reap();
    } while (io_uring_sq_ready(&ring_) > 0 || !queue_.empty());
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
  io_uring_sqe* get_sqe(int* error) noexcept {
    for (;;) {
      if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
      // The SQ is full: handing it to the kernel frees its entries.
      const int rc = io_uring_submit(&ring_);
      if (rc > 0 || rc == -EINTR) continue;
      // The kernel took nothing (-EAGAIN: no memory for requests; -EBUSY:
      // completions it could not post). Finished requests free both: wait
      // for one and reap, never spin.
      report_once(rc);
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
    io_uring_sqe* sqe = get_sqe(&error);
    if (sqe == nullptr) {
      ctx_.completion->io_done(req, error);
      return;
    }
    const int file = static_cast<int>(req->path_nr * 2 + (req->buffered ? 1 : 0));
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
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data(sqe, req);
    inflight_.fetch_add(1, std::memory_order_relaxed);
    served_++;
  }

  // Short transfers go back into the lane's queue (never straight into the
  // SQ: get_sqe may reap); finished requests go to the completion, which may
  // queue retries. serve() issues and submits both.
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
      if (!settle(req, cqe->res)) queue_.push(req);
    }
    io_uring_cq_advance(&ring_, seen);
  }

  void report_once(int rc) noexcept {
    if (reported_) return;
    reported_ = true;
    ctx_.reporter->report(LogLevel::kError, "io_uring worker " + std::to_string(ctx_.worker_nr) +
                                                ": io_uring_submit: " + std::strerror(-rc));
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;  // the optional set-up flags the kernel took
  bool reported_ = false;
  uint64_t served_ = 0;  // requests issued + completions reaped; the ring holder's only
  std::atomic<uint32_t> demand_{0};
  std::atomic<size_t> inflight_{0};
};

}  // namespace

Result<std::unique_ptr<IoWorker>> make_uring_worker(const WorkerContext& ctx) {
  auto worker = std::make_unique<UringWorker>(ctx);
  if (Status s = worker->init(); !s.ok()) return s;
  return std::unique_ptr<IoWorker>(std::move(worker));
}

}  // namespace tcmu_switch
