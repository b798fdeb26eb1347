// The io_uring worker: one ring per thread, every path's two fds registered
// as fixed files, requests turned into SQEs in batches and completions reaped
// in the same loop. A read on the wake-up eventfd stays armed in the ring, so
// one io_uring_submit_and_wait() sleeps on both I/O and new requests.
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "io_worker.h"

namespace tcmu_switch {
namespace {

constexpr uint64_t kWakeTag = 0;  // user_data of the eventfd read; requests use their address
constexpr unsigned kMaxRingEntries = 4096;

class UringWorker final : public IoWorker {
 public:
  explicit UringWorker(const WorkerContext& ctx) : IoWorker(ctx) {}
  ~UringWorker() override {
    stop();
    if (ring_ready_) io_uring_queue_exit(&ring_);
  }

  Status init() {
    if (!has_eventfd()) return Status::error(std::string("eventfd: ") + std::strerror(errno));
    unsigned entries = 8;
    while (entries < ctx_.queue_capacity + 1 && entries < kMaxRingEntries) entries <<= 1;
    io_uring_params params{};
    // The ring is created here but used only by the worker thread: created
    // disabled, it binds to the thread that enables it (SINGLE_ISSUER).
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_R_DISABLED;
    int rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == -EINVAL) {  // kernels before 6.0 do not know the flags
      params = {};
      rc = io_uring_queue_init_params(entries, &ring_, &params);
    }
    disabled_ = (params.flags & IORING_SETUP_R_DISABLED) != 0;
    if (rc < 0) return Status::error(std::string("io_uring_queue_init: ") + std::strerror(-rc));
    ring_ready_ = true;
    std::vector<int> fds;
    for (Path* p : ctx_.paths) {
      fds.push_back(p->fd());
      fds.push_back(p->buffered_fd());
    }
    rc = io_uring_register_files(&ring_, fds.data(), static_cast<unsigned>(fds.size()));
    if (rc < 0) return Status::error(std::string("io_uring_register_files: ") + std::strerror(-rc));
    return {};
  }

 private:
  void run() noexcept override {
    if (disabled_) enable_ring();
    arm_wake();
    for (;;) {
      drain_queue();
      if (stopping() && inflight_ == 0 && queue_.empty()) break;
      set_sleeping(true);
      if (!queue_.empty()) {
        set_sleeping(false);
        continue;
      }
      const int rc = io_uring_submit_and_wait(&ring_, 1);
      set_sleeping(false);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) report_once(rc);
      reap();
    }
  }

  // liburing 2.3 (Debian 12) has no io_uring_enable_rings().
  void enable_ring() noexcept {
    syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
  }

  void arm_wake() noexcept {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_read(sqe, event_fd_, &wake_buf_, sizeof(wake_buf_), 0);
    io_uring_sqe_set_data64(sqe, kWakeTag);
  }

  io_uring_sqe* get_sqe() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {  // SQ full: hand what we have to the kernel
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void drain_queue() noexcept {
    IoRequest* req = nullptr;
    while (queue_.pop(req)) issue(req);
  }

  void issue(IoRequest* req) noexcept {
    io_uring_sqe* sqe = get_sqe();
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
    inflight_++;
  }

  void reap() noexcept {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      seen++;
      if (cqe->user_data == kWakeTag) {
        arm_wake();
        continue;
      }
      auto* req = static_cast<IoRequest*>(io_uring_cqe_get_data(cqe));
      inflight_--;
      if (!settle(req, cqe->res)) issue(req);
    }
    io_uring_cq_advance(&ring_, seen);
  }

  void report_once(int rc) noexcept {
    if (reported_) return;
    reported_ = true;
    ctx_.reporter->report(LogLevel::kError, "io_uring worker " + std::to_string(ctx_.worker_nr) +
                                                ": io_uring_submit_and_wait: " + std::strerror(-rc));
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  bool disabled_ = false;
  bool reported_ = false;
  uint64_t wake_buf_ = 0;
  size_t inflight_ = 0;
};

}  // namespace

Result<std::unique_ptr<IoWorker>> make_uring_worker(const WorkerContext& ctx) {
  auto worker = std::make_unique<UringWorker>(ctx);
  if (Status s = worker->init(); !s.ok()) return s;
  return std::unique_ptr<IoWorker>(std::move(worker));
}

}  // namespace tcmu_switch
