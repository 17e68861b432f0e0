// Interface facts (index, MAC, MTU, IPv4 addresses) and the main routing
// table from libnl, kept current by netlink notifications through a cache
// manager: address changes need no restart. The reply path reads a snapshot
// (netstate.h); it never queries netlink.
#ifndef PXEPROXY_PROXYDHCP_INTERFACES_H_
#define PXEPROXY_PROXYDHCP_INTERFACES_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proxydhcp/netstate.h"
#include "wire/log_limiter.h"

struct nl_cache_mngr;
struct nl_cache;
struct nl_sock;

namespace proxydhcp {

class InterfaceMonitor {
 public:
  static absl::StatusOr<std::unique_ptr<InterfaceMonitor>> Create();
  ~InterfaceMonitor();
  InterfaceMonitor(const InterfaceMonitor&) = delete;
  InterfaceMonitor& operator=(const InterfaceMonitor&) = delete;

  using Clock = std::chrono::steady_clock;

  int fd() const;
  // Reads pending notifications; true when the snapshot changed. When the
  // kernel dropped notifications (the socket overflowed: ENOBUFS), what is
  // still queued is discarded and every link, address and route is read
  // again in full (at most once a second), so nothing stays stale.
  bool Process(Clock::time_point now = Clock::now());
  // Asks for a full re-read at the next Process (at most once a second):
  // the caller found the snapshot wrong (an interface it names is gone).
  void RequestResync() { resync_pending_ = true; }
  // How long until Process must run again for a pending re-read; -1: none.
  int TimeoutMs(Clock::time_point now) const;
  const NetSnapshot& net() const { return net_; }
  const InterfaceSnapshot& snapshot() const { return net_.interfaces; }
  std::optional<InterfaceInfo> ByName(const std::string& name) const;
  uint64_t resyncs() const { return resyncs_; }

 private:
  InterfaceMonitor() = default;
  void Rebuild();
  bool Resync();

  nl_cache_mngr* mngr_ = nullptr;
  nl_sock* sync_sock_ = nullptr;  // for full re-reads after an overflow
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
  nl_cache* routes_ = nullptr;
  NetSnapshot net_;
  bool changed_ = false;  // set by the cache callbacks
  uint64_t resyncs_ = 0;
  uint64_t overflows_ = 0;
  bool resync_pending_ = false;
  bool lost_ = false;  // an overflow since the last re-read
  Clock::time_point last_resync_{};
  static constexpr Clock::duration kResyncGap = std::chrono::seconds(1);
  wire::LogLimiter log_limiter_;
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_INTERFACES_H_
