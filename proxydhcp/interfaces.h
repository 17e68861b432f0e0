// Interface facts (index, MAC, MTU, IPv4 addresses) from libnl, kept current
// by netlink notifications through a cache manager: address changes need no
// restart. The reply path reads a snapshot; it never queries netlink.
#ifndef PXEPROXY_PROXYDHCP_INTERFACES_H_
#define PXEPROXY_PROXYDHCP_INTERFACES_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/addr.h"

struct nl_cache_mngr;
struct nl_cache;

namespace proxydhcp {

struct InterfaceInfo {
  int index = 0;
  std::string name;
  wire::MacAddr mac{};
  int mtu = 1500;
  bool up = false;
  std::vector<std::pair<wire::Ipv4, int>> ipv4;  // address, prefix length
};

using InterfaceSnapshot = std::map<int, InterfaceInfo>;  // by index

class InterfaceMonitor {
 public:
  static absl::StatusOr<std::unique_ptr<InterfaceMonitor>> Create();
  ~InterfaceMonitor();
  InterfaceMonitor(const InterfaceMonitor&) = delete;
  InterfaceMonitor& operator=(const InterfaceMonitor&) = delete;

  int fd() const;
  // Reads pending notifications; true when the snapshot changed.
  bool Process();
  const InterfaceSnapshot& snapshot() const { return snapshot_; }
  std::optional<InterfaceInfo> ByName(const std::string& name) const;

 private:
  InterfaceMonitor() = default;
  void Rebuild();

  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
  InterfaceSnapshot snapshot_;
  bool changed_ = false;  // set by the cache callbacks
};

// Our address to use toward `peer` on this interface: one in the same subnet
// if any, else the first. nullopt when the interface has no IPv4 address.
std::optional<wire::Ipv4> AddressFacing(const InterfaceInfo& info,
                                        wire::Ipv4 peer);
bool HasAddress(const InterfaceSnapshot& snap, wire::Ipv4 ip);

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_INTERFACES_H_
