#include "path.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "enum_names.h"
#include "rbd_path.h"
#include "rbd_spec.h"

namespace tcmu_switch {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

constexpr EnumName<PathState> kPathStateNames[] = {
    {PathState::kHealthy, "healthy"}, {PathState::kFailed, "failed"}, {PathState::kDisabled, "disabled"}};

// The block device's WRITE ZEROES limit from sysfs (its own queue, or its
// disk's for a partition); 0 when it has none or sysfs cannot tell.
uint64_t write_zeroes_max_bytes(dev_t dev) {
  const std::string base = "/sys/dev/block/" + std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  for (const char* queue : {"/queue", "/../queue"}) {
    std::ifstream in(base + queue + "/write_zeroes_max_bytes");
    uint64_t bytes = 0;
    if (in >> bytes) return bytes;
  }
  return 0;
}

}  // namespace

const char* path_state_name(PathState state) { return enum_name(kPathStateNames, state); }

Result<PathState> parse_path_state(std::string_view text) {
  auto state = parse_enum(kPathStateNames, text);
  if (!state.ok()) return Status::error("path state " + state.status().message());
  return state;
}

Result<std::unique_ptr<Path>> Path::open(const PathConfig& config, uint32_t path_nr, uint64_t lun_bytes,
                                         Reporter& reporter) {
  std::unique_ptr<Path> path(new Path(config, path_nr));
  const std::string what = "path " + std::to_string(path_nr) + " (" + config.device + ")";
  if (is_rbd_device(config.device)) {
    auto image = open_rbd_path(config, what, reporter);
    if (!image.ok()) return image.status();
    path->size_bytes_ = image->size_bytes;
    path->deallocates_to_zero_ = true;  // a discarded range reads back as zeroes
    path->backend_ = std::move(image->backend);
    if (Status s = path->check_capacity(lun_bytes); !s.ok()) return s;
    return path;
  }
  path->fd_ = ::open(config.device.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (path->fd_ >= 0) {
    path->direct_ = true;
  } else if (errno == EINVAL) {
    path->fd_ = ::open(config.device.c_str(), O_RDWR | O_CLOEXEC);
    if (path->fd_ >= 0)
      reporter.report(LogLevel::kWarning, what + ": O_DIRECT refused by the file system, using buffered I/O");
  }
  if (path->fd_ < 0) return Status::error(what + ": open: " + errno_text(errno));
  path->buffered_fd_ = ::open(config.device.c_str(), O_RDWR | O_CLOEXEC);
  if (path->buffered_fd_ < 0) return Status::error(what + ": open: " + errno_text(errno));

  struct stat st {};
  if (fstat(path->fd_, &st) != 0) return Status::error(what + ": stat: " + errno_text(errno));
  if (S_ISBLK(st.st_mode)) {
    if (ioctl(path->fd_, BLKGETSIZE64, &path->size_bytes_) != 0)
      return Status::error(what + ": BLKGETSIZE64: " + errno_text(errno));
    path->deallocates_to_zero_ = write_zeroes_max_bytes(st.st_rdev) > 0;
    path->block_device_ = st.st_rdev;
  } else if (S_ISREG(st.st_mode)) {
    path->size_bytes_ = static_cast<uint64_t>(st.st_size);
    path->deallocates_to_zero_ = true;  // holes read as zeroes
    path->block_device_ = st.st_dev;
  } else {
    return Status::error(what + " is neither a block device nor a regular file");
  }
  if (Status s = path->check_capacity(lun_bytes); !s.ok()) return s;
  return path;
}

Path::~Path() {
  if (fd_ >= 0) ::close(fd_);
  if (buffered_fd_ >= 0) ::close(buffered_fd_);
}

Status Path::check_capacity(uint64_t lun_bytes) const {
  if (size_bytes_ < config_.offset_bytes || size_bytes_ - config_.offset_bytes < lun_bytes)
    return Status::error("path " + std::to_string(path_nr_) + " (" + config_.device + ") holds " +
                         std::to_string(size_bytes_) + " bytes, needs offset " +
                         std::to_string(config_.offset_bytes) + " + LUN size " + std::to_string(lun_bytes));
  return {};
}

PathStats Path::stats() const {
  PathStats s;
  for (size_t i = 0; i < kNrPathCounters; i++) s.counts[i] = counters_[i].load(std::memory_order_relaxed);
  return s;
}

}  // namespace tcmu_switch
