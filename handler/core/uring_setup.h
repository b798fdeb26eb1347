// io_uring set-up flags for the engine's rings: the optional ones it wants,
// tried from the fullest set down, each set dropped where the kernel refuses
// it (-EINVAL from a kernel that does not know a flag).
//
// Taken where offered:
//   COOP_TASKRUN (5.19): completions that need the submitting task's context
//     wait until it next enters the kernel instead of interrupting it.
//   SUBMIT_ALL (5.18): a request failing at submission does not stop the rest
//     of the batch behind it.
// Not used, whatever the kernel offers:
//   SINGLE_ISSUER, and DEFER_TASKRUN which needs it: a lane's ring is issued
//     on by whichever thread holds it (the thread submitting a command, so
//     that what completes at once completes there), not by one thread.
#pragma once

#include <liburing.h>

#include <span>
#include <string>

namespace tcmu_switch {

// io_uring_queue_init_params, or a stand-in (tests).
using RingInit = int (*)(unsigned entries, io_uring* ring, io_uring_params* params);

// The optional flag sets tried in order; the last is none.
inline constexpr unsigned kRingFlagSets[] = {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
                                             IORING_SETUP_SUBMIT_ALL, 0};

// Sets `ring` up with a completion queue of cq_entries and the first flag set
// of `sets` the kernel takes. Returns 0 or -errno (not -EINVAL for a flag the
// kernel lacks: the next set is tried); *taken is the set taken.
int init_ring(RingInit init, unsigned sq_entries, unsigned cq_entries, io_uring& ring, unsigned* taken,
              std::span<const unsigned> sets = kRingFlagSets);

// "COOP_TASKRUN SUBMIT_ALL", or "none".
std::string ring_flag_names(unsigned flags);

// Whether the kernel lets io_uring register [base, base + len) as a fixed
// buffer (READ_FIXED/WRITE_FIXED): registers it on a throwaway ring and lets
// go. Returns 0 or -errno.
int probe_buffer_registration(void* base, size_t len);

// What the handler does about fixed buffers for the TCMU data area, given
// the probe's answer on it: the log line that says so. It never uses them:
// Linux 6.1's io_uring registers no file-backed memory but shmem and
// hugetlbfs (io_uring/rsrc.c, io_sqe_buffer_register: -EOPNOTSUPP for the UIO
// map), and a kernel that does pin it would still go wrong, because
// target_core_user frees a device's idle data-area pages when its global
// page limit is reached (find_free_blocks) and maps new ones at the next
// fault, while the registration would keep reading and writing the old ones.
std::string fixed_buffer_verdict(int probe_rc);

}  // namespace tcmu_switch
