// RBD paths: an image in a Ceph cluster, reached through librbd's
// asynchronous API. Every rbd: path of the process that names the same
// cluster (ceph_conf, ceph_id) shares one rados_t: each handle costs a set
// of messenger and finisher threads. librbd's completions go straight to the
// engine's IoCompletion, on librbd's finisher thread.
//
// The cluster handle is set up with rbd_cache off (the initiator caches and
// flushes; a write acknowledged here is on the OSDs), partial discards that
// write zeroes (so an UNMAP reads back as zeroes) and, where the config
// leaves them unbounded, rados_osd_op_timeout and rados_mon_op_timeout of
// kRadosOpTimeoutS: a stopped OSD then surfaces as the path's error instead
// of a hang.
//
// A client the cluster has blocklisted (fenced: -ESHUTDOWN) is logged once
// per path; SwitchDevice fails the command and never retries it on another
// path, since the fence means another client owns the image now.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "device_config.h"
#include "path.h"
#include "reporter.h"
#include "status.h"

namespace tcmu_switch {

inline constexpr int kRadosOpTimeoutS = 30;

struct RbdImage {
  std::unique_ptr<PathBackend> backend;
  uint64_t size_bytes = 0;
};

// REQUIRES: is_rbd_device(config.device). Errors start with `what` and name
// the librados/librbd call that failed.
Result<RbdImage> open_rbd_path(const PathConfig& config, const std::string& what, Reporter& reporter);

}  // namespace tcmu_switch
