#include "io_worker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace tcmu_switch {

IoWorker::IoWorker(uint32_t worker_nr) : worker_nr_(worker_nr), event_fd_(eventfd(0, EFD_CLOEXEC)) {}

IoWorker::~IoWorker() {
  stop();
  if (event_fd_ >= 0) close(event_fd_);
}

void IoWorker::start() {
  thread_ = std::thread([this] { run(); });
  // Named from here, so the name is there when start() returns (a thread
  // count by name, in a test or by an admin, sees every lane).
  const std::string name = "switch-io" + std::to_string(worker_nr_);
  pthread_setname_np(thread_.native_handle(), name.c_str());
}

void IoWorker::stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  interrupt();
  thread_.join();
}

void IoWorker::interrupt() noexcept {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(event_fd_, &one, sizeof(one));
}

void IoWorker::push_all(IoRequest* list) noexcept {
  while (list != nullptr) {
    IoRequest* next = list->next;  // once queued, the request is another thread's
    if (PathBackend* backend = path_of(*list).backend())
      backend->submit(list, file_offset(*list), *list->target->completion);  // a library's path: not for the ring
    else
      inbox_.push(list);
    list = next;
  }
}

bool IoWorker::settle(IoRequest* req, int result) noexcept {
  const bool transfers = req->op == IoOp::kRead || req->op == IoOp::kWrite;
  if (transfers && result >= 0 && static_cast<uint64_t>(result) < req->len) {
    if (result == 0) {  // end of file before the end of the request
      req->target->completion->io_done(req, -EIO);
      return true;
    }
    advance_request(*req, static_cast<uint64_t>(result));
    return false;
  }
  req->target->completion->io_done(req, result);
  return true;
}

}  // namespace tcmu_switch
