#include "fake_runner.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace fake_runner {

tcmur_handler* registered = nullptr;
int nr_registrations = 0;

std::mutex mutex;
std::condition_variable cv;
std::map<void*, std::vector<Completion>> completions;  // every call, by command
std::vector<std::string> log_lines;

void log_line(const char* level, const char* fmt, va_list ap) {
  char buf[1024];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  std::lock_guard<std::mutex> lock(mutex);
  log_lines.push_back(std::string(level) + " " + buf);
}

bool log_has(const std::string& needle) {
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& l : log_lines)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

std::string log_text() {
  std::lock_guard<std::mutex> lock(mutex);
  std::string text;
  for (const auto& l : log_lines) text += l;
  return text;
}

void* load_plugin(const char* so_path, std::string* error) {
  void* dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  if (dl == nullptr) {
    *error = dlerror();
    return nullptr;
  }
  auto init = reinterpret_cast<int (*)()>(dlsym(dl, "handler_init"));
  if (init == nullptr) {
    *error = "no handler_init in " + std::string(so_path);
    return nullptr;
  }
  if (const int rc = init(); rc != 0) {
    *error = "handler_init returned " + std::to_string(rc);
    return nullptr;
  }
  return dl;
}

}  // namespace fake_runner

#define HOST_EXPORT extern "C" __attribute__((visibility("default")))

HOST_EXPORT int tcmur_register_handler(tcmur_handler* handler) {
  fake_runner::registered = handler;
  fake_runner::nr_registrations++;
  return handler->init != nullptr ? handler->init() : 0;  // main.c:83-90
}

HOST_EXPORT void tcmur_cmd_complete(tcmu_device*, void* data, int rc) {
  std::lock_guard<std::mutex> lock(fake_runner::mutex);
  fake_runner::completions[data].push_back({rc});
  fake_runner::cv.notify_all();
}

HOST_EXPORT void tcmur_dev_set_private(tcmu_device* dev, void* priv) { dev->handler_private = priv; }
HOST_EXPORT void* tcmur_dev_get_private(tcmu_device* dev) { return dev->handler_private; }

HOST_EXPORT char* tcmu_dev_get_cfgstring(tcmu_device* dev) { return dev->cfgstring.data(); }
HOST_EXPORT const char* tcmu_dev_get_uio_name(tcmu_device* dev) { return dev->uio_name.c_str(); }
HOST_EXPORT uint32_t tcmu_dev_get_block_size(tcmu_device* dev) { return dev->block_size; }
HOST_EXPORT uint64_t tcmu_dev_get_num_lbas(tcmu_device* dev) { return dev->num_lbas; }
HOST_EXPORT uint32_t tcmu_dev_get_max_xfer_len(tcmu_device* dev) { return dev->max_xfer_len; }
HOST_EXPORT void tcmu_dev_set_max_unmap_len(tcmu_device* dev, uint32_t len) { dev->max_unmap_len = len; }
HOST_EXPORT void tcmu_dev_set_opt_unmap_gran(tcmu_device* dev, uint32_t len, bool split) {
  dev->opt_unmap_gran = len;
  dev->unmap_split = split;
}
HOST_EXPORT void tcmu_dev_set_unmap_gran_align(tcmu_device* dev, uint32_t len) { dev->unmap_gran_align = len; }
HOST_EXPORT void tcmu_dev_set_write_cache_enabled(tcmu_device* dev, bool enabled) { dev->write_cache = enabled; }
HOST_EXPORT int tcmu_cfgfs_dev_get_attr_int(tcmu_device* dev, const char* name) {
  if (std::string(name) == "cmd_time_out") return dev->cmd_time_out;
  if (std::string(name) == "hw_queue_depth") return dev->hw_queue_depth;
  return -ENOENT;
}
HOST_EXPORT bool tcmu_dev_get_write_cache_enabled(tcmu_device* dev) { return dev->write_cache; }
HOST_EXPORT uint32_t tcmu_dev_get_max_unmap_len(tcmu_device* dev) { return dev->max_unmap_len; }
HOST_EXPORT uint32_t tcmu_dev_get_opt_unmap_gran(tcmu_device* dev) { return dev->opt_unmap_gran; }
HOST_EXPORT uint32_t tcmu_dev_get_unmap_gran_align(tcmu_device* dev) { return dev->unmap_gran_align; }
HOST_EXPORT char* tcmu_cfgfs_dev_get_wwn(tcmu_device* dev) { return strdup(dev->wwn.c_str()); }

// As libtcmu (api.c:260-315): copies up to the iovecs' length, moving each
// iovec past what it copied; returns the bytes copied.
template <typename Copy>
size_t walk_iovec(iovec* iov, size_t iov_cnt, size_t len, Copy copy) {
  size_t copied = 0;
  for (size_t i = 0; i < iov_cnt && copied < len; i++) {
    const size_t n = std::min(iov[i].iov_len, len - copied);
    copy(static_cast<char*>(iov[i].iov_base), copied, n);
    iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + n;
    iov[i].iov_len -= n;
    copied += n;
  }
  return copied;
}
HOST_EXPORT size_t tcmu_memcpy_into_iovec(iovec* iov, size_t iov_cnt, void* src, size_t len) {
  return walk_iovec(iov, iov_cnt, len,
                    [&](char* base, size_t at, size_t n) { std::memcpy(base, static_cast<char*>(src) + at, n); });
}
HOST_EXPORT size_t tcmu_memcpy_from_iovec(void* dest, size_t len, iovec* iov, size_t iov_cnt) {
  return walk_iovec(iov, iov_cnt, len,
                    [&](char* base, size_t at, size_t n) { std::memcpy(static_cast<char*>(dest) + at, base, n); });
}
HOST_EXPORT size_t tcmu_iovec_length(iovec* iov, size_t iov_cnt) {
  size_t len = 0;
  for (size_t i = 0; i < iov_cnt; i++) len += iov[i].iov_len;
  return len;
}
HOST_EXPORT void tcmu_iovec_zero(iovec* iov, size_t iov_cnt) {
  for (size_t i = 0; i < iov_cnt; i++) std::memset(iov[i].iov_base, 0, iov[i].iov_len);
}
// As libtcmu (api.c): the LBA of a 10- or 16-byte CDB, big-endian.
HOST_EXPORT uint64_t tcmu_cdb_get_lba(uint8_t* cdb) {
  uint64_t lba = 0;
  const bool cdb16 = (cdb[0] >> 5) == 4;
  for (int i = 2; i < (cdb16 ? 10 : 6); i++) lba = lba << 8 | cdb[i];
  return lba;
}

// As libtcmu (api.c:31-60) for the groups of the opcodes these tests send.
HOST_EXPORT int tcmu_cdb_get_length(uint8_t* cdb) {
  switch (cdb[0] >> 5) {
    case 0: return 6;
    case 1:
    case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return -EINVAL;
  }
}

// Like libtcmu: a malloc'd name the caller frees, the map's base and length.
HOST_EXPORT char* tcmu_dev_get_memory_info(tcmu_device* dev, void** base, size_t* len, off_t* offset) {
  *base = dev->mailbox;
  *len = sizeof(dev->mailbox);
  *offset = 0;
  return strdup(("/dev/" + dev->uio_name).c_str());
}

#define HOST_LOGGER(fn, level)                                                  \
  HOST_EXPORT void fn(tcmu_device*, const char*, int, const char* fmt, ...) { \
    va_list ap;                                                                 \
    va_start(ap, fmt);                                                          \
    fake_runner::log_line(level, fmt, ap);                                             \
    va_end(ap);                                                                 \
  }
HOST_LOGGER(tcmu_crit_message, "CRIT")
HOST_LOGGER(tcmu_err_message, "ERROR")
HOST_LOGGER(tcmu_warn_message, "WARN")
HOST_LOGGER(tcmu_info_message, "INFO")
HOST_LOGGER(tcmu_dbg_message, "DEBUG")
HOST_LOGGER(tcmu_dbg_scsi_cmd_message, "DEBUG")
