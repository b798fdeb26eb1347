// fake_runner: a test double of tcmu-runner and libtcmu that loads the real
// handler_switch.so.
//
// It exports the symbols the runner (tcmur_register_handler,
// tcmur_cmd_complete, tcmur_dev_{get,set}_private) and libtcmu (the
// tcmu_dev_* accessors and the loggers) give a handler, and dlopen()s the
// plugin with RTLD_NOW as main.c:161-219 does. A device is a plain struct
// holding what libtcmu would hold (block size, LBA count, max transfer, unmap
// settings, cfgstring); commands are tcmur_cmd structs with iovecs, completed
// by the plugin through tcmur_cmd_complete(). It is not tcmu-runner: no ring,
// no netlink, no SCSI emulation. The executable that links it must export its
// symbols (ENABLE_EXPORTS) and must not link the core (the plugin has its own).
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcmu_api.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

// What libtcmu keeps per device (libtcmu_priv.h), reduced to what a handler
// can read or set through the exported accessors.
struct tcmu_device {
  std::string cfgstring;
  std::string uio_name = "uio0";
  uint32_t block_size = 512;
  uint64_t num_lbas = 0;
  uint32_t max_xfer_len = 1024;  // blocks, as hw_max_sectors=1024 gives
  uint32_t opt_unmap_gran = 0;
  bool unmap_split = false;
  uint32_t unmap_gran_align = 0;
  uint32_t max_unmap_len = 0;
  int cmd_time_out = 30;  // configfs attrib/cmd_time_out, seconds
  int hw_queue_depth = 128;  // configfs attrib/hw_queue_depth; < 0: unreadable (-errno)
  bool write_cache = false;
  std::string wwn = "6b5e3f1a-0c2d-4e5f-8a9b-0123456789ab";  // configfs wwn/vpd_unit_serial
  void* handler_private = nullptr;
  // The start of the UIO map: a stock kernel's mailbox carries no zero-copy
  // flag, so zeroes are what the plugin would read there.
  alignas(4096) unsigned char mailbox[4096] = {};
};

namespace fake_runner {

struct Completion {
  int status;
};

// What the plugin did, guarded by `mutex`; `cv` is notified on completion.
extern std::mutex mutex;
extern std::condition_variable cv;
extern std::map<void*, std::vector<Completion>> completions;  // every call, by command
extern std::vector<std::string> log_lines;
extern tcmur_handler* registered;  // by tcmur_register_handler()
extern int nr_registrations;

bool log_has(const std::string& needle);
// Everything the plugin logged, for failure messages.
std::string log_text();

// dlopen()s the plugin with RTLD_NOW (every undefined symbol must resolve
// here, as in the runner) and calls its handler_init. Returns the dlopen
// handle, or nullptr with *error set.
void* load_plugin(const char* so_path, std::string* error);

// One command as libtcmu hands it over: a tcmulib_cmd with a CDB and the
// data iovecs, wrapped in the runner's tcmur_cmd.
struct HostCommand {
  HostCommand(uint8_t opcode, unsigned char* data, const std::vector<size_t>& iov_lens) {
    cdb[0] = opcode;
    size_t at = 0;
    for (size_t len : iov_lens) {
      iov.push_back({data + at, len});
      at += len;
    }
    lib.cdb = cdb;
    lib.iovec = iov.data();
    lib.iov_cnt = iov.size();
    cmd.lib_cmd = &lib;
    cmd.iovec = iov.data();
    cmd.iov_cnt = iov.size();
  }
  uint8_t cdb[16] = {};
  std::vector<iovec> iov;
  tcmulib_cmd lib = {};
  tcmur_cmd cmd = {};
};

}  // namespace fake_runner
