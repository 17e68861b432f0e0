// The adaptive UEFI strategy's memory (README "The adaptive UEFI
// strategy"): per client MAC, which strategy (binl or bypass) its last UEFI
// PXE offer used, and whether the client then reached port 4011 or TFTP. A
// client that DISCOVERs again with a new xid within the window without
// having reached either turned that offer down: it gets the other strategy.
// Bounded: the least recently offered client is forgotten first.
//
// A plain value: Respond and Decide read it (with the time, passed in), the
// daemon shell updates it after each reply, the diagnose dry run can build
// one from a capture. Not thread-safe: the TFTP thread hands its clients'
// addresses to the shell, which calls ReachedFrom on its own thread.
#ifndef PXEPROXY_PROXYDHCP_UEFI_HISTORY_H_
#define PXEPROXY_PROXYDHCP_UEFI_HISTORY_H_

#include <cstdint>
#include <list>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "wire/addr.h"

namespace proxydhcp {

enum class UefiStrategy;

struct UefiHistoryEntry {
  wire::MacAddr mac{};
  UefiStrategy offered;
  uint32_t xid = 0;
  int64_t offered_ms = 0;
  bool reached = false;    // port 4011 or TFTP since the offer
  bool worked = false;     // reached with this strategy at some time
  wire::Ipv4 address = 0;  // from its REQUEST to the DHCP server
};

class UefiHistory {
 public:
  explicit UefiHistory(size_t capacity = 4096) : capacity_(capacity) {}

  const UefiHistoryEntry* Find(const wire::MacAddr& mac) const;
  // A UEFI PXE offer on port 67 with `strategy`.
  void Offered(const wire::MacAddr& mac, uint32_t xid, UefiStrategy strategy,
               int64_t now_ms);
  // The client asked on port 4011 (answered).
  void Reached(const wire::MacAddr& mac);
  // Its REQUEST to the DHCP server (option 50 or ciaddr): the address its
  // TFTP requests will come from.
  void LearnAddress(const wire::MacAddr& mac, wire::Ipv4 address);
  // A TFTP read request from `address`.
  void ReachedFrom(wire::Ipv4 address);
  size_t size() const { return by_mac_.size(); }

 private:
  using List = std::list<UefiHistoryEntry>;
  size_t capacity_;
  List order_;  // most recently offered first
  // absl::Hash mixes every byte. A hash that passed the MAC through
  // (std::hash<uint64_t> is the identity) left absl's bucket bits on the
  // vendor prefix, which a rack of one vendor shares: every lookup probed
  // the whole table (70 % of the CPU of a 10,000-machine storm, BENCHMARKS.md).
  absl::flat_hash_map<wire::MacAddr, List::iterator> by_mac_;
  absl::flat_hash_map<wire::Ipv4, wire::MacAddr> by_address_;
};

// What Respond and Decide may know of earlier offers: the memory, the time
// and the window. `history` null or `window_ms` 0: the configured strategy.
struct UefiRecall {
  const UefiHistory* history = nullptr;
  int64_t now_ms = 0;
  int64_t window_ms = 0;
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_UEFI_HISTORY_H_
