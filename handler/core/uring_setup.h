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

}  // namespace tcmu_switch
