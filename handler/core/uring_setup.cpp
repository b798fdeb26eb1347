#include "uring_setup.h"

#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace tcmu_switch {

int init_ring(RingInit init, unsigned sq_entries, unsigned cq_entries, io_uring& ring, unsigned* taken,
              std::span<const unsigned> sets) {
  int rc = -EINVAL;
  for (const unsigned flags : sets) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = cq_entries;
    rc = init(sq_entries, &ring, &params);
    if (rc == 0) {
      *taken = flags;
      return 0;
    }
    if (rc != -EINVAL) return rc;  // not a flag the kernel lacks: no other set will do better
  }
  return rc;
}

std::string ring_flag_names(unsigned flags) {
  static constexpr struct {
    unsigned flag;
    const char* name;
  } kNames[] = {{IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"}, {IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL"},
                {IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG"}, {IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER"},
                {IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN"}};
  std::string out;
  for (const auto& n : kNames) {
    if ((flags & n.flag) == 0) continue;
    if (!out.empty()) out += ' ';
    out += n.name;
  }
  return out.empty() ? "none" : out;
}

int probe_buffer_registration(void* base, size_t len) {
  io_uring ring{};
  int rc = io_uring_queue_init(1, &ring, 0);
  if (rc < 0) return rc;
  const iovec area{base, len};
  rc = io_uring_register_buffers(&ring, &area, 1);
  if (rc == 0) io_uring_unregister_buffers(&ring);
  io_uring_queue_exit(&ring);
  return rc;
}

std::string fixed_buffer_verdict(int probe_rc) {
  if (probe_rc == 0)
    return "fixed buffers: not used: the kernel registers the TCMU data area, but target_core_user frees idle "
           "data-area pages under a registration (find_free_blocks), so READ_FIXED/WRITE_FIXED could move data "
           "through pages the device no longer maps";
  return std::string("fixed buffers: not used: the kernel refuses to register the TCMU data area (") +
         std::strerror(-probe_rc) + ")";
}

}  // namespace tcmu_switch
