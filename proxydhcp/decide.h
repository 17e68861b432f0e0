// The one entry of the proxyDHCP core: a received frame, where it came from
// and the host's network state in; the bytes to send, or a named reason to
// stay silent, out. Everything pxeproxy refuses is decided here (VLAN,
// checksums, addressed to us, source and relay address validation, the
// reverse-path check, the reply's size), then Respond chooses the answer.
// Pure: no sockets, clock, logging or flags. The daemon, the diagnose dry
// run, the golden tests and the fuzzers call this and nothing else.
#ifndef PXEPROXY_PROXYDHCP_DECIDE_H_
#define PXEPROXY_PROXYDHCP_DECIDE_H_

#include <cstdint>

#include "absl/types/span.h"
#include "proxydhcp/netstate.h"
#include "proxydhcp/respond.h"

namespace proxydhcp {

// What the receive path knows beside the bytes (PACKET_AUXDATA, sockaddr_ll).
struct ReceiveMeta {
  int ifindex = 0;
  // The frame carried an 802.1Q tag the kernel stripped: a socket on eth0
  // also sees eth0.N's traffic, which belongs to another segment.
  bool vlan_tagged = false;
  // PACKET_OTHERHOST: unicast to another station's MAC, seen only because
  // something put the interface in promiscuous mode.
  bool other_host = false;
  // TP_STATUS_CSUMNOTREADY: sent from this host with a partial checksum
  // (offload); TP_STATUS_CSUM_VALID: the NIC verified it. Either way the
  // UDP checksum in the bytes is not to be checked.
  bool csum_not_ready = false;
  bool csum_valid = false;
};

// Ethernet frame in, Reply (with `bytes` and `ifindex` set) or Ignore out.
// `recall`: the adaptive UEFI strategy's memory and the time (none: the
// configured strategy).
Decision Decide(absl::Span<const uint8_t> frame, const ReceiveMeta& meta,
                const NetSnapshot& net, const ResponderConfig& config,
                const UefiRecall& recall = {});

// The largest IPv4 packet a reply to `request` may be: 576 (RFC 2131 4.1,
// RFC 1122 3.3.3) unless option 57 allows more, never above `mtu`.
size_t MaxReplyIpSize(const wire::DhcpMessage& request, int mtu);

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_DECIDE_H_
