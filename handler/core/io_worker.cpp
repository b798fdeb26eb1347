#include "io_worker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace tcmu_switch {

IoWorker::IoWorker(const WorkerContext& ctx)
    : ctx_(ctx), queue_(ctx.queue_capacity + 1), event_fd_(eventfd(0, EFD_CLOEXEC)) {}

IoWorker::~IoWorker() {
  stop();
  if (event_fd_ >= 0) close(event_fd_);
}

void IoWorker::start() {
  thread_ = std::thread([this] {
    const std::string name = "switch-io" + std::to_string(ctx_.worker_nr);
    pthread_setname_np(pthread_self(), name.c_str());
    run();
  });
}

void IoWorker::stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(event_fd_, &one, sizeof(one));
  thread_.join();
}

void IoWorker::push_all(IoRequest* list) noexcept {
  while (list != nullptr) {
    IoRequest* next = list->next;  // once queued, the request is another thread's
    if (PathBackend* backend = ctx_.paths[list->path_nr]->backend())
      backend->submit(list, file_offset(*list), *ctx_.completion);  // a library's path: not for the ring
    else
      queue_.push(list);
    list = next;
  }
}

bool IoWorker::settle(IoRequest* req, int result) noexcept {
  const bool transfers = req->op == IoOp::kRead || req->op == IoOp::kWrite;
  if (transfers && result >= 0 && static_cast<uint64_t>(result) < req->len) {
    if (result == 0) {  // end of file before the end of the request
      ctx_.completion->io_done(req, -EIO);
      return true;
    }
    advance_request(*req, static_cast<uint64_t>(result));
    return false;
  }
  ctx_.completion->io_done(req, result);
  return true;
}

}  // namespace tcmu_switch
