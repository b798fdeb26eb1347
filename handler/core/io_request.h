// IoRequest: one piece of a command, bound for one path. Preallocated in a
// pool; the engine executes it and hands it back through IoCompletion.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcmu_switch {

struct Command;
class IoCompletion;
class Path;
class Reporter;

// What a request's device lends the engine: its paths, where its finished
// requests go and where the engine says what went wrong with them. Lives as
// long as the device is attached to the engine (IoEngine::attach).
struct IoTarget {
  std::span<Path* const> paths;
  IoCompletion* completion = nullptr;
  Reporter* reporter = nullptr;
};

enum class IoOp : uint8_t { kRead, kWrite, kFlush, kUnmap };

// The requests of one command that its lane has issued and not yet reaped
// (a window's pieces all go down one lane). The io_uring lane counts them to
// sleep until the next command can have finished, not until the next piece
// has (groups_in_flight.h). Touched only by the thread holding the lane.
struct IoGroup {
  uint32_t in_flight = 0;
};

struct IoRequest {
  IoOp op = IoOp::kRead;
  bool buffered = false;    // use the path's buffered fd (O_DIRECT could not pin the buffer)
  bool zero_fill = false;   // kUnmap: write zeroes instead of deallocating (the path cannot)
  uint8_t attempts = 0;     // paths tried so far (multipath failover)
  int rw_flags = 0;         // RWF_DSYNC for FUA writes
  uint32_t path_nr = 0;
  uint32_t worker_nr = 0;   // the engine worker that carries it
  uint32_t iov_cnt = 0;
  uint64_t lun_offset = 0;  // bytes; the path's offset is added at submission
  uint64_t len = 0;         // bytes still to transfer
  uint64_t region_nr = 0;   // the first region it covers
  uint32_t nr_regions = 1;  // adjacent regions merged into it (extend_request)
  iovec* iov = nullptr;     // slice of the command's iovecs, advanced on short transfers
  const IoTarget* target = nullptr;  // its device's paths and completion
  Command* cmd = nullptr;
  IoGroup* group = nullptr;  // its command's on the lane; none: a command of one request
  IoRequest* next = nullptr;  // free-list / batch link
};

// Consumes `bytes` from the front of req's iovecs (after a short transfer).
inline void advance_request(IoRequest& req, uint64_t bytes) {
  req.lun_offset += bytes;
  req.len -= bytes;
  while (bytes > 0 && req.iov_cnt > 0) {
    if (bytes >= req.iov->iov_len) {
      bytes -= req.iov->iov_len;
      req.iov++;
      req.iov_cnt--;
    } else {
      req.iov->iov_base = static_cast<char*>(req.iov->iov_base) + bytes;
      req.iov->iov_len -= bytes;
      bytes = 0;
    }
  }
}

// True where iovec b starts in memory where a ends: the two can be one.
inline bool continues(const iovec& a, const iovec& b) {
  return static_cast<const char*>(a.iov_base) + a.iov_len == b.iov_base;
}

// Whether n slices at `slice` (directly after req's own iovecs in one array)
// may join req and keep it within IOV_MAX iovecs (preadv and io_uring refuse
// more).
inline bool fits_iov_max(const IoRequest& req, const iovec* slice, size_t n) {
  const bool joins = n > 0 && req.iov_cnt > 0 && continues(req.iov[req.iov_cnt - 1], slice[0]);
  return req.iov_cnt + n - (joins ? 1 : 0) <= IOV_MAX;
}

// Appends the next region's piece to req: len bytes more and the n iovec
// slices at `slice`, which directly follow req's own in the same array; a
// slice that runs on from req's last iovec joins it.
inline void extend_request(IoRequest& req, uint64_t len, iovec* slice, size_t n) {
  req.len += len;
  req.nr_regions++;
  if (n > 0 && req.iov_cnt > 0 && continues(req.iov[req.iov_cnt - 1], slice[0])) {
    req.iov[req.iov_cnt - 1].iov_len += slice[0].iov_len;
    std::copy(slice + 1, slice + n, slice);
    n--;
  }
  req.iov_cnt += static_cast<uint32_t>(n);
}

// Called by the engine on a worker thread when a request finished. result is
// the byte count transferred (for read/write the whole remaining length: the
// engine resubmits short transfers itself) or -errno.
class IoCompletion {
 public:
  virtual ~IoCompletion() = default;
  virtual void io_done(IoRequest* req, int result) noexcept = 0;
};

}  // namespace tcmu_switch
