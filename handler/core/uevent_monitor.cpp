// The monitor thread polls the netlink socket and an eventfd (its stop
// signal), drains the socket and hands each kernel message to every
// listener under the listeners' mutex; subscribing and unsubscribing take
// the same mutex, so a listener that has unsubscribed is never called again.
#include "uevent_monitor.h"

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace tcmu_switch {
namespace {

// The kernel multicasts uevents to group 1 (udev re-sends its own to group 2).
constexpr uint32_t kKernelUeventGroup = 1;
// Room for a burst: removing a host with many LUNs sends several events per
// disk and partition. Overflow is reported to the listeners.
constexpr int kReceiveBufferBytes = 1 << 20;

std::string nl_error(const char* call, int err) { return std::string(call) + ": " + nl_geterror(err); }

class Monitor {
 public:
  static Result<std::unique_ptr<Monitor>> open() {
    std::unique_ptr<Monitor> m(new Monitor);
    m->sock_ = nl_socket_alloc();
    if (m->sock_ == nullptr) return Status::error("uevents: nl_socket_alloc failed");
    nl_socket_disable_seq_check(m->sock_);
    if (int err = nl_connect(m->sock_, NETLINK_KOBJECT_UEVENT); err < 0)
      return Status::error("uevents: " + nl_error("nl_connect(NETLINK_KOBJECT_UEVENT)", err));
    if (int err = nl_socket_add_membership(m->sock_, kKernelUeventGroup); err < 0)
      return Status::error("uevents: " + nl_error("nl_socket_add_membership", err));
    if (int err = nl_socket_set_buffer_size(m->sock_, kReceiveBufferBytes, 0); err < 0)
      return Status::error("uevents: " + nl_error("nl_socket_set_buffer_size", err));
    if (int err = nl_socket_set_nonblocking(m->sock_); err < 0)
      return Status::error("uevents: " + nl_error("nl_socket_set_nonblocking", err));
    m->stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (m->stop_fd_ < 0) return Status::error("uevents: eventfd failed");
    m->thread_ = std::thread([raw = m.get()] { raw->run(); });
    return m;
  }

  ~Monitor() {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
      thread_.join();
    }
    if (stop_fd_ >= 0) close(stop_fd_);
    if (sock_ != nullptr) nl_socket_free(sock_);
  }

  void add(UeventListener* l) {
    std::lock_guard<std::mutex> lock(mutex_);
    listeners_.push_back(l);
  }
  // Returns how many listeners remain.
  size_t remove(UeventListener* l) {
    std::lock_guard<std::mutex> lock(mutex_);
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
    return listeners_.size();
  }

 private:
  Monitor() = default;

  void run() noexcept {
    pthread_setname_np(pthread_self(), "switch-uevent");
    pollfd fds[2] = {{nl_socket_get_fd(sock_), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return lost("poll failed");
      if (fds[1].revents != 0) return;
      if (fds[0].revents != 0 && !drain()) return;
    }
  }

  // Reads until the socket is empty; false when it failed for good.
  bool drain() noexcept {
    for (;;) {
      sockaddr_nl from{};
      unsigned char* buf = nullptr;
      const int n = nl_recv(sock_, &from, &buf, nullptr);
      const auto received = UeventListener::Clock::now();
      if (n == -NLE_AGAIN) return true;
      if (n == -NLE_NOMEM) {  // ENOBUFS: the kernel dropped messages for us
        lost("the uevent socket overflowed");
        continue;
      }
      if (n < 0) {
        lost(nl_error("nl_recv", n) + "; no more uevents");
        return false;
      }
      // Port 0 is the kernel; anything else is a process pretending to be it.
      if (from.nl_pid == 0 && n > 0) deliver(std::string_view(reinterpret_cast<char*>(buf), n), received);
      free(buf);
    }
  }

  void deliver(std::string_view message, UeventListener::Clock::time_point received) noexcept {
    auto event = parse_uevent(message);
    if (!event.ok()) return;  // not ours to judge: the kernel adds message kinds
    std::lock_guard<std::mutex> lock(mutex_);
    for (UeventListener* l : listeners_) l->uevent(event.value(), received);
  }

  void lost(const std::string& why) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (UeventListener* l : listeners_) l->uevents_lost(why);
  }

  nl_sock* sock_ = nullptr;
  int stop_fd_ = -1;
  std::thread thread_;
  std::mutex mutex_;  // listeners_; held while they are called
  std::vector<UeventListener*> listeners_;
};

// The process's monitor, while it has listeners.
std::mutex g_monitor_mutex;
std::unique_ptr<Monitor> g_monitor;

}  // namespace

Result<std::unique_ptr<UeventSubscription>> UeventSubscription::subscribe(UeventListener& listener) {
  std::lock_guard<std::mutex> lock(g_monitor_mutex);
  if (!g_monitor) {
    auto monitor = Monitor::open();
    if (!monitor.ok()) return monitor.status();
    g_monitor = std::move(monitor).value();
  }
  g_monitor->add(&listener);
  return std::unique_ptr<UeventSubscription>(new UeventSubscription(listener));
}

UeventSubscription::~UeventSubscription() {
  std::lock_guard<std::mutex> lock(g_monitor_mutex);
  if (g_monitor->remove(&listener_) == 0) g_monitor.reset();
}

}  // namespace tcmu_switch
