#include "proxydhcp/uefi_history.h"

namespace proxydhcp {

const UefiHistoryEntry* UefiHistory::Find(const wire::MacAddr& mac) const {
  auto it = by_mac_.find(mac);
  return it == by_mac_.end() ? nullptr : &*it->second;
}

void UefiHistory::Offered(const wire::MacAddr& mac, uint32_t xid,
                          UefiStrategy strategy, int64_t now_ms) {
  auto it = by_mac_.find(mac);
  if (it != by_mac_.end()) {
    UefiHistoryEntry& e = *it->second;
    // A retransmission (same xid) keeps what it has reached so far.
    if (e.xid != xid || e.offered != strategy) e.reached = false;
    if (e.offered != strategy) e.worked = false;
    e.xid = xid;
    e.offered = strategy;
    e.offered_ms = now_ms;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  if (capacity_ == 0) return;
  if (by_mac_.size() >= capacity_) {
    const UefiHistoryEntry& old = order_.back();
    auto a = by_address_.find(old.address);
    if (a != by_address_.end() && a->second == old.mac) by_address_.erase(a);
    by_mac_.erase(old.mac);
    order_.pop_back();
  }
  UefiHistoryEntry e;
  e.mac = mac;
  e.offered = strategy;
  e.xid = xid;
  e.offered_ms = now_ms;
  order_.push_front(e);
  by_mac_[mac] = order_.begin();
}

void UefiHistory::Reached(const wire::MacAddr& mac) {
  auto it = by_mac_.find(mac);
  if (it != by_mac_.end()) it->second->reached = it->second->worked = true;
}

void UefiHistory::LearnAddress(const wire::MacAddr& mac, wire::Ipv4 address) {
  auto it = by_mac_.find(mac);
  if (it == by_mac_.end() || address == 0) return;
  UefiHistoryEntry& e = *it->second;
  if (auto a = by_address_.find(e.address);
      a != by_address_.end() && a->second == mac) {
    by_address_.erase(a);
  }
  e.address = address;
  by_address_[address] = mac;
}

void UefiHistory::ReachedFrom(wire::Ipv4 address) {
  auto it = by_address_.find(address);
  if (it != by_address_.end()) Reached(it->second);
}

}  // namespace proxydhcp
