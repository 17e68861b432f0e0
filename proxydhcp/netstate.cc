#include "proxydhcp/netstate.h"

#include <algorithm>

namespace proxydhcp {
namespace {

uint32_t Mask(int len) {
  return len <= 0 ? 0 : len >= 32 ? ~uint32_t{0} : ~uint32_t{0} << (32 - len);
}

}  // namespace

RouteTable::RouteTable(const std::vector<Route>& routes) {
  for (const Route& r : routes) {
    if (r.prefix_len < 0 || r.prefix_len > 32) continue;
    const wire::Ipv4 key = r.dst & Mask(r.prefix_len);
    auto& map = by_len_[r.prefix_len];
    auto [it, inserted] = map.try_emplace(key, r);
    if (inserted) {
      it->second.dst = key;
      ++size_;
    } else if (r.priority < it->second.priority) {
      it->second = r;
      it->second.dst = key;
    }
  }
  for (int len = 32; len >= 0; --len) {
    if (!by_len_[len].empty()) lengths_.push_back(len);
  }
}

const Route* RouteTable::Lookup(wire::Ipv4 dst) const {
  for (int len : lengths_) {
    auto it = by_len_[len].find(dst & Mask(len));
    if (it != by_len_[len].end()) return &it->second;
  }
  return nullptr;
}

std::optional<wire::Ipv4> AddressFacing(const InterfaceInfo& info,
                                        wire::Ipv4 peer) {
  if (info.ipv4.empty()) return std::nullopt;
  if (peer != 0) {
    for (const IfAddr& a : info.ipv4) {
      if ((a.ip & Mask(a.prefix_len)) == (peer & Mask(a.prefix_len))) {
        return a.ip;
      }
    }
  }
  return info.ipv4.front().ip;
}

bool HasAddress(const InterfaceSnapshot& snap, wire::Ipv4 ip) {
  for (const auto& [index, info] : snap) {
    for (const IfAddr& a : info.ipv4) {
      if (a.ip == ip) return true;
    }
  }
  return false;
}

bool IsOurSubnetBroadcast(const InterfaceSnapshot& snap, wire::Ipv4 ip) {
  for (const auto& [index, info] : snap) {
    for (const IfAddr& a : info.ipv4) {
      if (a.prefix_len <= 0 || a.prefix_len > 30) continue;
      const uint32_t mask = Mask(a.prefix_len);
      if ((ip & mask) != (a.ip & mask)) continue;
      if ((ip & ~mask) == ~mask || (ip & ~mask) == 0) return true;
    }
  }
  return false;
}

bool IsAddressOf(const InterfaceSnapshot& snap, int ifindex, wire::Ipv4 ip) {
  auto it = snap.find(ifindex);
  if (it == snap.end()) return false;
  for (const IfAddr& a : it->second.ipv4) {
    if (a.ip == ip) return true;
  }
  return false;
}

bool IsMartian(wire::Ipv4 ip) {
  const uint8_t first = static_cast<uint8_t>(ip >> 24);
  return first == 0 || first == 127 || first >= 224;
}

const char* ReversePathName(ReversePath r) {
  return r == ReversePath::kStrict ? "strict" : "loose";
}

std::optional<ReversePath> ParseReversePath(const std::string& text) {
  if (text == "strict") return ReversePath::kStrict;
  if (text == "loose") return ReversePath::kLoose;
  return std::nullopt;
}

bool ReversePathOk(const RouteTable& routes, wire::Ipv4 addr, int ifindex,
                   ReversePath mode) {
  const Route* r = routes.Lookup(addr);
  if (r == nullptr || !r->reachable) return false;
  if (mode == ReversePath::kLoose) return true;
  return std::find(r->oifs.begin(), r->oifs.end(), ifindex) != r->oifs.end();
}

}  // namespace proxydhcp
