#include "proxydhcp/interfaces.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace proxydhcp {
namespace {

absl::Status NlError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", nl_geterror(err)));
}

// IPv6 addresses and routes (router advertisements a LAN host can send)
// change nothing pxeproxy uses: no rebuild for them.
void OnChange(nl_cache*, nl_object* o, int, void* changed) {
  const char* type = nl_object_get_type(o);
  if (type != nullptr && strcmp(type, "route/addr") == 0 &&
      rtnl_addr_get_family(reinterpret_cast<rtnl_addr*>(o)) != AF_INET) {
    return;
  }
  if (type != nullptr && strcmp(type, "route/route") == 0 &&
      rtnl_route_get_family(reinterpret_cast<rtnl_route*>(o)) != AF_INET) {
    return;
  }
  *static_cast<bool*>(changed) = true;
}

// After ENOBUFS the socket still holds the notifications queued before the
// overflow: applied after a fresh dump they would bring back an address
// deleted since (a replayed add) or remove a current one (a replayed
// delete). Discard them; the dump that follows is the truth.
void DiscardQueued(int fd) {
  char buf[65536];
  for (int i = 0; i < 1000000; ++i) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && errno == ENOBUFS) continue;  // overflowed again meanwhile
    if (n <= 0) return;
  }
}

// A burst of address changes (a container host, a DHCP client flapping)
// arrives faster than one poll round: a deep queue keeps most of it. What
// still overflows is recovered by Resync. FORCE needs CAP_NET_ADMIN (we are
// still root here); without it the kernel caps at net.core.rmem_max.
void DeepenQueue(int fd) {
  int size = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
}

wire::Ipv4 AddrOf(nl_addr* a) {
  if (a == nullptr || nl_addr_get_len(a) != 4) return 0;
  uint32_t be;
  memcpy(&be, nl_addr_get_binary_addr(a), 4);
  return ntohl(be);
}

void AddNexthop(rtnl_nexthop* nh, void* arg) {
  auto* r = static_cast<Route*>(arg);
  r->oifs.push_back(rtnl_route_nh_get_ifindex(nh));
}

}  // namespace

absl::StatusOr<std::unique_ptr<InterfaceMonitor>> InterfaceMonitor::Create() {
  std::unique_ptr<InterfaceMonitor> m(new InterfaceMonitor());
  int err =
      nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &m->mngr_);
  if (err < 0) return NlError("netlink cache manager", err);
  err = nl_cache_mngr_add(m->mngr_, "route/link", OnChange, &m->changed_,
                          &m->links_);
  if (err < 0) return NlError("netlink link cache", err);
  err = nl_cache_mngr_add(m->mngr_, "route/addr", OnChange, &m->changed_,
                          &m->addrs_);
  if (err < 0) return NlError("netlink address cache", err);
  err = nl_cache_mngr_add(m->mngr_, "route/route", OnChange, &m->changed_,
                          &m->routes_);
  if (err < 0) return NlError("netlink route cache", err);
  DeepenQueue(m->fd());
  m->sync_sock_ = nl_socket_alloc();
  if (m->sync_sock_ == nullptr) return absl::InternalError("nl_socket_alloc");
  err = nl_connect(m->sync_sock_, NETLINK_ROUTE);
  if (err < 0) return NlError("netlink socket", err);
  m->Rebuild();
  return m;
}

InterfaceMonitor::~InterfaceMonitor() {
  if (mngr_ != nullptr) nl_cache_mngr_free(mngr_);
  if (sync_sock_ != nullptr) nl_socket_free(sync_sock_);
}

int InterfaceMonitor::fd() const { return nl_cache_mngr_get_fd(mngr_); }

bool InterfaceMonitor::Process(Clock::time_point now) {
  changed_ = false;
  // Negative: the socket overflowed (ENOBUFS, which libnl reports as "Out
  // of memory") or a message could not be read. Notifications were lost,
  // and the caches may hold an address deleted long ago: read everything
  // again, at most once a second (a sustained flood of changes must not
  // turn into a dump per poll round); until then the snapshot stays as is.
  int err = nl_cache_mngr_data_ready(mngr_);
  if (err < 0) {
    ++overflows_;
    resync_pending_ = true;
    lost_ = true;
  }
  if (resync_pending_ && (resyncs_ == 0 || now - last_resync_ >= kResyncGap)) {
    last_resync_ = now;
    DiscardQueued(fd());
    if (Resync()) {
      if (auto n = log_limiter_.Admit("resync", now)) {
        LOG(WARNING) << "netlink: re-read interfaces, addresses and routes ("
                     << (lost_ ? "notifications lost" : "snapshot found stale")
                     << "; " << overflows_ << " overflows so far)"
                     << wire::LogLimiter::Suffix(*n);
      }
      resync_pending_ = false;
      lost_ = false;
      changed_ = true;
    }
  }
  if (changed_) Rebuild();
  return changed_;
}

int InterfaceMonitor::TimeoutMs(Clock::time_point now) const {
  if (!resync_pending_) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  last_resync_ + kResyncGap - now)
                  .count();
  return left < 0 ? 0 : static_cast<int>(left) + 1;
}

bool InterfaceMonitor::Resync() {
  ++resyncs_;
  bool ok = true;
  for (nl_cache* c : {links_, addrs_, routes_}) {
    int err = nl_cache_refill(sync_sock_, c);
    if (err < 0) {
      // Retried at the next Process (resync_pending_ stays set).
      LOG(ERROR) << "netlink: re-reading a cache failed: " << nl_geterror(err);
      ok = false;
    }
  }
  return ok;
}

namespace {

// Every link in the cache: index, name, MTU, up, MAC.
InterfaceSnapshot ReadLinks(nl_cache* links) {
  InterfaceSnapshot snap;
  for (nl_object* o = nl_cache_get_first(links); o != nullptr;
       o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    InterfaceInfo info;
    info.index = rtnl_link_get_ifindex(link);
    const char* name = rtnl_link_get_name(link);
    info.name = name != nullptr ? name : "";
    info.mtu = static_cast<int>(rtnl_link_get_mtu(link));
    info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    nl_addr* ll = rtnl_link_get_addr(link);
    if (ll != nullptr && nl_addr_get_len(ll) == 6) {
      memcpy(info.mac.data(), nl_addr_get_binary_addr(ll), 6);
    }
    snap[info.index] = std::move(info);
  }
  return snap;
}

// The IPv4 addresses of each link, primaries first.
void AddAddresses(nl_cache* addrs, InterfaceSnapshot* snap) {
  for (nl_object* o = nl_cache_get_first(addrs); o != nullptr;
       o = nl_cache_get_next(o)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(addr) != AF_INET) continue;
    nl_addr* local = rtnl_addr_get_local(addr);
    if (local == nullptr || nl_addr_get_len(local) != 4) continue;
    auto it = snap->find(rtnl_addr_get_ifindex(addr));
    if (it == snap->end()) continue;
    it->second.ipv4.push_back(
        IfAddr{AddrOf(local), static_cast<int>(rtnl_addr_get_prefixlen(addr)),
               (rtnl_addr_get_flags(addr) & IFA_F_SECONDARY) != 0});
  }
  for (auto& [index, info] : *snap) {
    // Primaries first: they answer a broadcast that says nothing of its
    // subnet, as the kernel picks a primary for a source address.
    std::stable_partition(info.ipv4.begin(), info.ipv4.end(),
                          [](const IfAddr& a) { return !a.secondary; });
  }
}

// The main table's IPv4 routes that decide reachability: unicast ones, and
// blackhole/unreachable/prohibit ones (which make a source unreachable).
std::vector<Route> ReadRoutes(nl_cache* routes) {
  std::vector<Route> out;
  for (nl_object* o = nl_cache_get_first(routes); o != nullptr;
       o = nl_cache_get_next(o)) {
    auto* route = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_family(route) != AF_INET ||
        rtnl_route_get_table(route) != RT_TABLE_MAIN) {
      continue;
    }
    const uint8_t type = rtnl_route_get_type(route);
    if (type != RTN_UNICAST && type != RTN_BLACKHOLE &&
        type != RTN_UNREACHABLE && type != RTN_PROHIBIT) {
      continue;
    }
    Route r;
    nl_addr* dst = rtnl_route_get_dst(route);
    r.dst = AddrOf(dst);
    r.prefix_len =
        dst != nullptr ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0;
    r.priority = rtnl_route_get_priority(route);
    r.reachable = type == RTN_UNICAST;
    rtnl_route_foreach_nexthop(route, AddNexthop, &r);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void InterfaceMonitor::Rebuild() {
  NetSnapshot net;
  net.interfaces = ReadLinks(links_);
  AddAddresses(addrs_, &net.interfaces);
  net.routes = RouteTable(ReadRoutes(routes_));
  net_ = std::move(net);
}

std::optional<InterfaceInfo> InterfaceMonitor::ByName(
    const std::string& name) const {
  for (const auto& [index, info] : net_.interfaces) {
    if (info.name == name) return info;
  }
  return std::nullopt;
}

}  // namespace proxydhcp
