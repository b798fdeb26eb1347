// The synchronous worker: preadv2/pwritev2/fsync/fallocate on its own thread.
// The fallback where io_uring cannot be set up (old kernel, or disabled by
// kernel.io_uring_disabled), and selectable with engine = sync.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "io_worker.h"

namespace tcmu_switch {
namespace {

class SyncWorker final : public IoWorker {
 public:
  explicit SyncWorker(uint32_t worker_nr) : IoWorker(worker_nr) {}
  ~SyncWorker() override { stop(); }

  void submit(IoRequest* list) noexcept override {
    push_all(list);
    wake();
  }

 private:
  void run() noexcept override {
    bool woken = false;
    for (;;) {
      bool idle = true;
      for (IoRequest* req = inbox_.take_all(); req != nullptr; idle = false) {
        IoRequest* next = req->next;  // executed, the request is its device's again
        execute(req);
        req = next;
      }
      if (woken) count_wakeup(idle);
      woken = false;
      if (stopping()) break;
      sleeping_.store(true, std::memory_order_seq_cst);
      if (inbox_.empty()) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = read(event_fd_, &count, sizeof(count));
        woken = true;
      }
      sleeping_.store(false, std::memory_order_seq_cst);
    }
  }

  void wake() noexcept {
    // Pairs with run()'s sleeping_ store + queue re-check: either the worker
    // sees our request or we see it asleep and write the eventfd.
    if (sleeping_.load(std::memory_order_seq_cst)) interrupt();
  }

  void execute(IoRequest* req) noexcept {
    while (!settle(req, perform(*req))) {
    }
  }

  int perform(const IoRequest& req) noexcept {
    const Path& path = path_of(req);
    const int fd = req.buffered ? path.buffered_fd() : path.fd();
    const auto off = static_cast<off_t>(file_offset(req));
    const int iov_cnt = static_cast<int>(req.iov_cnt);
    ssize_t rc = 0;
    switch (req.op) {
      case IoOp::kRead: rc = preadv2(fd, req.iov, iov_cnt, off, 0); break;
      case IoOp::kWrite: rc = pwritev2(fd, req.iov, iov_cnt, off, req.rw_flags); break;
      case IoOp::kFlush: rc = fsync(fd); break;
      case IoOp::kUnmap:
        rc = fallocate(fd, unmap_mode(req), off, static_cast<off_t>(req.len));
        break;
    }
    return rc < 0 ? -errno : static_cast<int>(rc);
  }

  std::atomic<bool> sleeping_{false};  // the worker is (about to be) blocked on event_fd_
};

}  // namespace

Result<std::unique_ptr<IoWorker>> make_sync_worker(uint32_t worker_nr) {
  auto worker = std::make_unique<SyncWorker>(worker_nr);
  if (!worker->has_eventfd()) return Status::error(std::string("eventfd: ") + std::strerror(errno));
  return std::unique_ptr<IoWorker>(std::move(worker));
}

}  // namespace tcmu_switch
