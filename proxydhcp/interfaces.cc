#include "proxydhcp/interfaces.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <string.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace proxydhcp {
namespace {

absl::Status NlError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", nl_geterror(err)));
}

void OnChange(nl_cache*, nl_object*, int, void* changed) {
  *static_cast<bool*>(changed) = true;
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
  m->Rebuild();
  return m;
}

InterfaceMonitor::~InterfaceMonitor() {
  if (mngr_ != nullptr) nl_cache_mngr_free(mngr_);
}

int InterfaceMonitor::fd() const { return nl_cache_mngr_get_fd(mngr_); }

bool InterfaceMonitor::Process() {
  changed_ = false;
  nl_cache_mngr_data_ready(mngr_);
  if (changed_) Rebuild();
  return changed_;
}

void InterfaceMonitor::Rebuild() {
  InterfaceSnapshot snap;
  for (nl_object* o = nl_cache_get_first(links_); o != nullptr;
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
  for (nl_object* o = nl_cache_get_first(addrs_); o != nullptr;
       o = nl_cache_get_next(o)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(addr) != AF_INET) continue;
    nl_addr* local = rtnl_addr_get_local(addr);
    if (local == nullptr || nl_addr_get_len(local) != 4) continue;
    auto it = snap.find(rtnl_addr_get_ifindex(addr));
    if (it == snap.end()) continue;
    uint32_t be;
    memcpy(&be, nl_addr_get_binary_addr(local), 4);
    it->second.ipv4.emplace_back(ntohl(be), rtnl_addr_get_prefixlen(addr));
  }
  snapshot_ = std::move(snap);
}

std::optional<InterfaceInfo> InterfaceMonitor::ByName(
    const std::string& name) const {
  for (const auto& [index, info] : snapshot_) {
    if (info.name == name) return info;
  }
  return std::nullopt;
}

std::optional<wire::Ipv4> AddressFacing(const InterfaceInfo& info,
                                        wire::Ipv4 peer) {
  if (info.ipv4.empty()) return std::nullopt;
  for (const auto& [ip, len] : info.ipv4) {
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    if (peer != 0 && (ip & mask) == (peer & mask)) return ip;
  }
  return info.ipv4.front().first;
}

bool HasAddress(const InterfaceSnapshot& snap, wire::Ipv4 ip) {
  for (const auto& [index, info] : snap) {
    for (const auto& [addr, len] : info.ipv4) {
      if (addr == ip) return true;
    }
  }
  return false;
}

}  // namespace proxydhcp
