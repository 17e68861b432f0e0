// What the host's network looks like to the decision core: interfaces with
// their IPv4 addresses, and the main routing table. The daemon keeps it
// current from netlink (interfaces.h); the diagnose dry run and the tests
// build one by hand. Pure values and lookups: no sockets.
#ifndef PXEPROXY_PROXYDHCP_NETSTATE_H_
#define PXEPROXY_PROXYDHCP_NETSTATE_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "wire/addr.h"

namespace proxydhcp {

struct IfAddr {
  wire::Ipv4 ip = 0;
  int prefix_len = 32;
  bool secondary = false;  // IFA_F_SECONDARY: not the subnet's primary
  bool operator==(const IfAddr&) const = default;
};

struct InterfaceInfo {
  int index = 0;
  std::string name;
  wire::MacAddr mac{};
  int mtu = 1500;
  bool up = false;
  std::vector<IfAddr> ipv4;  // primaries first, then in kernel order
};

using InterfaceSnapshot = std::map<int, InterfaceInfo>;  // by index

// One IPv4 route of the main table. `oifs` holds every next hop's interface
// (several for a multipath route). `reachable` is false for blackhole,
// unreachable and prohibit routes: a packet to such a destination is dropped.
struct Route {
  wire::Ipv4 dst = 0;
  int prefix_len = 0;
  std::vector<int> oifs;
  bool reachable = true;
  uint32_t priority = 0;  // metric: the lowest wins among equal prefixes
};

// The routing table, indexed for longest-prefix match: one hash map per
// prefix length present, searched from the longest (at most 33 probes,
// whatever the table's size).
class RouteTable {
 public:
  RouteTable() = default;
  explicit RouteTable(const std::vector<Route>& routes);
  // The route the kernel would pick for `dst` (main table, no policy rules).
  const Route* Lookup(wire::Ipv4 dst) const;
  size_t size() const { return size_; }

 private:
  std::vector<int> lengths_;  // prefix lengths present, longest first
  std::array<absl::flat_hash_map<wire::Ipv4, Route>, 33> by_len_;
  size_t size_ = 0;
};

struct NetSnapshot {
  InterfaceSnapshot interfaces;
  RouteTable routes;
};

// Our address to use toward `peer` on this interface: one whose subnet holds
// `peer` if any (primaries first), else the first primary. nullopt when the
// interface has no IPv4 address.
std::optional<wire::Ipv4> AddressFacing(const InterfaceInfo& info,
                                        wire::Ipv4 peer);
// True when `ip` is one of our addresses, on any interface.
bool HasAddress(const InterfaceSnapshot& snap, wire::Ipv4 ip);

// Addresses no packet may come from or be sent to on a LAN (RFC 1122
// 3.2.1.3, RFC 5735): 0/8, 127/8, 224/4 multicast, 240/4 reserved and the
// limited broadcast. The kernel drops such sources as martians; AF_PACKET
// sees them anyway, so the core must refuse them itself.
bool IsMartian(wire::Ipv4 ip);
// The broadcast address (host part all ones), or the old BSD one (all
// zeros), of a subnet of ours (prefixes up to /30): the raw socket would
// refuse to send there, or with SO_BROADCAST reach the whole subnet.
bool IsOurSubnetBroadcast(const InterfaceSnapshot& snap, wire::Ipv4 ip);
// True when `ip` is an address of interface `ifindex`.
bool IsAddressOf(const InterfaceSnapshot& snap, int ifindex, wire::Ipv4 ip);

// How strictly a source or relay address must route back (rp_filter).
enum class ReversePath {
  kStrict,  // the route to it leaves through the receiving interface
  kLoose,   // some reachable route to it exists (asymmetric routing)
};
const char* ReversePathName(ReversePath r);
std::optional<ReversePath> ParseReversePath(const std::string& text);

// The reverse-path check of RFC 3704 (as Linux rp_filter 1 and 2 do it).
bool ReversePathOk(const RouteTable& routes, wire::Ipv4 addr, int ifindex,
                   ReversePath mode);

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_NETSTATE_H_
