// Interface facts (index, MAC, MTU, IPv4 addresses) and the main routing
// table from libnl, kept current by netlink notifications through a cache
// manager: address changes need no restart. The reply path reads a snapshot
// (netstate.h); it never queries netlink.
#ifndef PXEPROXY_PROXYDHCP_INTERFACES_H_
#define PXEPROXY_PROXYDHCP_INTERFACES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proxydhcp/netstate.h"

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

  int fd() const;
  // Reads pending notifications; true when the snapshot changed. When the
  // kernel dropped notifications (the socket overflowed: ENOBUFS), every
  // link, address and route is read again in full, so nothing stays stale.
  bool Process();
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
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_INTERFACES_H_
