#include "uring_setup.h"

#include <cerrno>

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

}  // namespace tcmu_switch
