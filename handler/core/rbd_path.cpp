#include "rbd_path.h"

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "fixed_pool.h"
#include "rbd_spec.h"

namespace tcmu_switch {
namespace {

// librbd's completion carries one pointer; each request in flight on a path
// takes one of these, as many as a device's piece pool can hold.
constexpr size_t kMaxInflight = 65536;

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

// One connected rados_t, shared by every path that names the same cluster.
class RadosCluster {
 public:
  using Key = std::pair<std::string, std::string>;  // ceph_conf, ceph_id

  static Result<std::shared_ptr<RadosCluster>> get(const Key& key, const std::string& what, Reporter& reporter) {
    static std::mutex mutex;
    static std::map<Key, std::weak_ptr<RadosCluster>> clusters;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto shared = clusters[key].lock()) return shared;
    std::shared_ptr<RadosCluster> cluster(new RadosCluster);
    if (Status s = cluster->connect(key, reporter); !s.ok()) return s.with_context(what);
    clusters[key] = cluster;
    return cluster;
  }
  ~RadosCluster() {
    if (handle_ != nullptr) rados_shutdown(handle_);
  }
  rados_t handle() const { return handle_; }

 private:
  RadosCluster() = default;

  Status connect(const Key& key, Reporter& reporter) {
    const auto& [conf, id] = key;
    if (int r = rados_create(&handle_, id.empty() ? nullptr : id.c_str()); r < 0) {
      handle_ = nullptr;
      return Status::error("rados_create: " + errno_text(r));
    }
    if (int r = rados_conf_read_file(handle_, conf.empty() ? nullptr : conf.c_str()); r < 0)
      return Status::error("reading ceph config " + (conf.empty() ? std::string("(default search)") : conf) + ": " +
                           errno_text(r));
    if (int r = rados_conf_parse_env(handle_, nullptr); r < 0) return Status::error("CEPH_ARGS: " + errno_text(r));
    for (const auto& [option, value] : {std::pair{"rbd_cache", "false"}, {"rbd_skip_partial_discard", "false"}})
      if (int r = rados_conf_set(handle_, option, value); r < 0)
        return Status::error(std::string("rados_conf_set ") + option + ": " + errno_text(r));
    for (const char* option : {"rados_osd_op_timeout", "rados_mon_op_timeout"})
      if (Status s = bound_timeout(option, reporter); !s.ok()) return s;
    if (int r = rados_connect(handle_); r < 0) return Status::error("rados_connect: " + errno_text(r));
    return {};
  }

  // An unbounded timeout (0) becomes kRadosOpTimeoutS, logged.
  Status bound_timeout(const char* option, Reporter& reporter) {
    char value[32] = {};
    if (int r = rados_conf_get(handle_, option, value, sizeof(value)); r < 0)
      return Status::error(std::string("rados_conf_get ") + option + ": " + errno_text(r));
    if (std::strtod(value, nullptr) > 0) return {};
    const std::string bounded = std::to_string(kRadosOpTimeoutS);
    if (int r = rados_conf_set(handle_, option, bounded.c_str()); r < 0)
      return Status::error(std::string("rados_conf_set ") + option + ": " + errno_text(r));
    reporter.report(LogLevel::kInfo, std::string(option) + " is unbounded in the ceph config: using " + bounded + " s");
    return {};
  }

  rados_t handle_ = nullptr;
};

class RbdPath final : public PathBackend {
 public:
  RbdPath(std::shared_ptr<RadosCluster> cluster, std::string what, Reporter& reporter)
      : cluster_(std::move(cluster)), what_(std::move(what)), reporter_(reporter),
        contexts_(kMaxInflight, [this](Context& c, size_t) { c.path = this; }) {}

  ~RbdPath() override {
    if (image_ != nullptr) rbd_close(image_);
    if (ioctx_ != nullptr) rados_ioctx_destroy(ioctx_);
  }

  Result<uint64_t> open(const RbdSpec& spec) {
    if (int r = rados_ioctx_create(cluster_->handle(), spec.pool.c_str(), &ioctx_); r < 0) {
      ioctx_ = nullptr;
      return Status::error(what_ + ": pool " + spec.pool + ": " + errno_text(r));
    }
    rados_ioctx_set_namespace(ioctx_, spec.ns.empty() ? nullptr : spec.ns.c_str());
    if (int r = rbd_open(ioctx_, spec.image.c_str(), &image_, nullptr); r < 0) {
      image_ = nullptr;
      return Status::error(what_ + ": rbd_open: " + errno_text(r));
    }
    uint64_t size = 0;
    if (int r = rbd_get_size(image_, &size); r < 0) return Status::error(what_ + ": rbd_get_size: " + errno_text(r));
    return size;
  }

  void submit(IoRequest* req, uint64_t offset_bytes, IoCompletion& completion) noexcept override {
    Context* ctx = contexts_.acquire();
    if (ctx == nullptr) {  // more in flight than any device's piece pool: a bug
      completion.io_done(req, -EBUSY);
      return;
    }
    ctx->req = req;
    ctx->completion = &completion;
    rbd_completion_t c = nullptr;
    int r = rbd_aio_create_completion(ctx, &RbdPath::done, &c);
    if (r == 0) r = start(*req, offset_bytes, c);
    if (r < 0) {
      if (c != nullptr) rbd_aio_release(c);
      contexts_.release(ctx);
      completion.io_done(req, r);
    }
  }

  bool probe(uint64_t offset_bytes, size_t len) noexcept override {
    std::unique_ptr<char[]> buf(new (std::nothrow) char[len]);
    return buf && rbd_read(image_, offset_bytes, len, buf.get()) == static_cast<ssize_t>(len);
  }

 private:
  struct Context {
    RbdPath* path = nullptr;
    IoRequest* req = nullptr;
    IoCompletion* completion = nullptr;
  };

  int start(const IoRequest& req, uint64_t off, rbd_completion_t c) noexcept {
    const int iov_cnt = static_cast<int>(req.iov_cnt);
    switch (req.op) {
      // No FUA in librbd: with rbd_cache off a write completes once the OSDs have it.
      case IoOp::kRead: return rbd_aio_readv(image_, req.iov, iov_cnt, off, c);
      case IoOp::kWrite: return rbd_aio_writev(image_, req.iov, iov_cnt, off, c);
      case IoOp::kFlush: return rbd_aio_flush(image_, c);
      case IoOp::kUnmap:
        return req.zero_fill ? rbd_aio_write_zeroes(image_, off, req.len, c, 0, 0)
                             : rbd_aio_discard(image_, off, req.len, c);
    }
    return -EINVAL;
  }

  // On librbd's finisher thread.
  static void done(rbd_completion_t c, void* arg) noexcept {
    auto* ctx = static_cast<Context*>(arg);
    const ssize_t r = rbd_aio_get_return_value(c);
    rbd_aio_release(c);
    IoRequest* req = ctx->req;
    IoCompletion* completion = ctx->completion;
    RbdPath* self = ctx->path;
    self->contexts_.release(ctx);
    if (r == -ESHUTDOWN && !self->fenced_.exchange(true, std::memory_order_relaxed))
      self->reporter_.report(LogLevel::kError, self->what_ + ": the cluster has blocklisted this client "
                                               "(fenced): its I/O fails and is never retried on another path");
    // A transfer reports its length, the rest 0; a piece is at most a window (< 2 GiB).
    const int result = r < 0 ? static_cast<int>(r)
                       : req->op == IoOp::kRead || req->op == IoOp::kWrite ? static_cast<int>(req->len)
                                                                           : 0;
    completion->io_done(req, result);
  }

  std::shared_ptr<RadosCluster> cluster_;
  const std::string what_;
  Reporter& reporter_;
  rados_ioctx_t ioctx_ = nullptr;
  rbd_image_t image_ = nullptr;
  FixedPool<Context> contexts_;
  std::atomic<bool> fenced_{false};  // logged once
};

}  // namespace

Result<RbdImage> open_rbd_path(const PathConfig& config, const std::string& what, Reporter& reporter) {
  auto spec = parse_rbd_spec(config.device);
  if (!spec.ok()) return spec.status().with_context(what);
  auto cluster = RadosCluster::get({config.ceph_conf, config.ceph_id}, what, reporter);
  if (!cluster.ok()) return cluster.status();
  auto path = std::make_unique<RbdPath>(std::move(cluster).value(), what, reporter);
  auto size = path->open(spec.value());
  if (!size.ok()) return size.status();
  return RbdImage{std::move(path), size.value()};
}

}  // namespace tcmu_switch
