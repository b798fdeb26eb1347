// tcmu-runner's handler API, made includable from C++: one extern "C" block
// for every tcmu header (libtcmu_log.h has no guard of its own, and mangled
// logger names would make dlopen() refuse the plugin), the two runner
// functions whose header cannot be compiled as C++, and the min/max macros
// that would break the standard library undone. libtcmu_common.h uses
// uint8_t, pthread_t and struct iovec without including their headers.
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

extern "C" {
#include "libtcmu.h"
#include "libtcmu_common.h"
#include "libtcmu_log.h"
#include "scsi_defs.h"
#include "tcmu-runner.h"
// tcmur_device.h cannot be included from C++ (a parameter is named `private`).
void tcmur_dev_set_private(struct tcmu_device* dev, void* priv);
void* tcmur_dev_get_private(struct tcmu_device* dev);
}
#undef min
#undef max
#undef round_up
#undef round_down
