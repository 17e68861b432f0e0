#include "proxydhcp/decide.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "wire/udp_frame.h"

namespace proxydhcp {
namespace {

constexpr size_t kIpUdpHeaders = 28;
constexpr size_t kMinMaxMessageSize = 576;  // RFC 2132 9.10

Ignore Refuse(IgnoreReason reason, const wire::DhcpMessage* req = nullptr,
              wire::Ipv4 address = 0, std::string detail = "") {
  Ignore ig{reason};
  ig.address = address;
  ig.detail = std::move(detail);
  if (req != nullptr) {
    ig.mac = req->mac();
    ig.xid = req->xid;
    constexpr uint8_t kOptRequestedAddress = 50;
    ig.requested = req->ciaddr;
    if (auto a = req->options.GetIpv4(kOptRequestedAddress)) ig.requested = *a;
  }
  return ig;
}

// A source we may answer (4011) or a relay we may send to (giaddr): a
// unicast address that is not ours and routes back through the interface
// the request came in on (docs/protocol.md "Reverse path"; RFC 3704).
std::optional<IgnoreReason> CheckPeer(wire::Ipv4 addr, IgnoreReason bad,
                                      const ReceiveMeta& meta,
                                      const NetSnapshot& net,
                                      const ResponderConfig& config) {
  if (IsMartian(addr) || HasAddress(net.interfaces, addr) ||
      IsOurSubnetBroadcast(net.interfaces, addr)) {
    return bad;
  }
  if (!ReversePathOk(net.routes, addr, meta.ifindex, config.reverse_path)) {
    return IgnoreReason::kReversePath;
  }
  return std::nullopt;
}

// The address on the receiving interface a broadcast request is answered
// from: the one whose subnet holds the relay, the client's address, the IP
// source or the address it asks for (option 50), else the primary.
wire::Ipv4 ServerAddress(const wire::DhcpMessage& req,
                         const wire::UdpDatagram& udp,
                         const InterfaceInfo& info) {
  wire::Ipv4 hint = req.giaddr;
  if (hint == 0) hint = req.ciaddr;
  if (hint == 0) hint = udp.src_ip;
  if (hint == 0) hint = req.options.GetIpv4(50).value_or(0);
  return AddressFacing(info, hint).value_or(0);
}

}  // namespace

size_t MaxReplyIpSize(const wire::DhcpMessage& request, int mtu) {
  size_t limit = kMinMaxMessageSize;
  if (auto m = request.options.GetU16(wire::kOptMaxMessageSize)) {
    limit = std::max<size_t>(limit, *m);
  }
  if (mtu > 0) limit = std::min<size_t>(limit, static_cast<size_t>(mtu));
  return limit;
}

namespace {

// The refusals that need only the frame and the request: addressing and
// source rules (RFC 3704's reverse-path check for peers we answer by
// unicast). nullopt: the request may be answered.
std::optional<Decision> RefuseByAddress(const wire::UdpDatagram& udp,
                                        const wire::DhcpMessage& req,
                                        const ReceiveMeta& meta,
                                        const NetSnapshot& net,
                                        const ResponderConfig& config) {
  // A unicast request must be for an address of the receiving interface
  // (the strong host model; with --reverse_path=loose, any of ours, for
  // asymmetric routing), never a martian one: a request "to" 127.0.0.1 or
  // to a management address elsewhere would be answered from it, and tell
  // the LAN what addresses this host has.
  if (udp.dst_ip != wire::kIpv4Broadcast &&
      (IsMartian(udp.dst_ip) ||
       !(config.reverse_path == ReversePath::kLoose
             ? HasAddress(net.interfaces, udp.dst_ip)
             : IsAddressOf(net.interfaces, meta.ifindex, udp.dst_ip)))) {
    return Refuse(IgnoreReason::kNotAddressedToUs, &req, udp.dst_ip);
  }
  // AF_PACKET bypasses the kernel's martian-source checks: a frame "from"
  // 127.0.0.1:5514 would otherwise make us send a reply into this host.
  if (udp.src_ip != 0 &&
      (IsMartian(udp.src_ip) || HasAddress(net.interfaces, udp.src_ip))) {
    return Refuse(IgnoreReason::kBadSource, &req, udp.src_ip);
  }
  if (udp.dst_port == kPxeBinlPort) {
    // The 4011 ACK goes back to the source: it must be a real peer.
    if (udp.src_ip == 0) return Refuse(IgnoreReason::kBadSource, &req, 0);
    if (auto bad = CheckPeer(udp.src_ip, IgnoreReason::kBadSource, meta, net,
                             config)) {
      return Refuse(*bad, &req, udp.src_ip);
    }
  }
  if (req.giaddr != 0) {
    // A reply on 67 goes to giaddr:67; 127.0.0.1 would be a DHCP server on
    // this very host.
    if (auto bad = CheckPeer(req.giaddr, IgnoreReason::kBadRelayAddress, meta,
                             net, config)) {
      return Refuse(*bad, &req, req.giaddr);
    }
  }
  return std::nullopt;
}

// The reply's bytes: a whole Ethernet frame for a broadcast (sent on the
// receiving interface's packet socket), an IPv4 packet for a unicast (the
// kernel routes it). Refused when it would not fit what the client accepts.
Decision Encode(Decision d, const wire::DhcpMessage& req,
                const ReceiveMeta& meta, const InterfaceInfo* info) {
  Reply& reply = std::get<Reply>(d);
  wire::UdpDatagram out;
  out.src_ip = reply.src_ip;
  out.dst_ip = reply.dst_ip;
  out.src_port = reply.src_port;
  out.dst_port = reply.dst_port;
  out.payload = wire::SerializeDhcp(reply.message);
  const int mtu = info != nullptr ? info->mtu : 0;
  if (out.payload.size() + kIpUdpHeaders > MaxReplyIpSize(req, mtu)) {
    return Refuse(IgnoreReason::kReplyTooLarge, &req, 0,
                  absl::StrCat(out.payload.size() + kIpUdpHeaders, " bytes"));
  }
  reply.ifindex = meta.ifindex;
  if (reply.broadcast) {
    out.dst_mac = wire::kMacBroadcast;
    if (info != nullptr) out.src_mac = info->mac;
    reply.bytes = wire::BuildEthernetUdp(out);
  } else {
    reply.bytes = wire::BuildIpv4Udp(out);
  }
  return d;
}

}  // namespace

Decision Decide(absl::Span<const uint8_t> frame, const ReceiveMeta& meta,
                const NetSnapshot& net, const ResponderConfig& config,
                const UefiRecall& recall) {
  if (meta.vlan_tagged) return Refuse(IgnoreReason::kVlanTagged);
  if (meta.other_host) return Refuse(IgnoreReason::kNotAddressedToUs);
  absl::StatusOr<wire::UdpDatagram> udp = wire::ParseEthernetUdp(frame);
  if (!udp.ok()) {
    return Refuse(IgnoreReason::kMalformed, nullptr, 0,
                  std::string(udp.status().message()));
  }
  // The kernel verifies both before a socket sees a datagram; AF_PACKET
  // sees the frame first. A frame sent from this host may carry a partial
  // UDP checksum (offload): tp_status says so, and it is not checked then.
  if (!udp->ip_checksum_ok) {
    return Refuse(IgnoreReason::kBadChecksum, nullptr, udp->src_ip, "ipv4");
  }
  if (!udp->udp_checksum_ok && !meta.csum_not_ready && !meta.csum_valid) {
    return Refuse(IgnoreReason::kBadChecksum, nullptr, udp->src_ip, "udp");
  }
  absl::StatusOr<wire::DhcpMessage> req = wire::ParseDhcp(udp->payload);
  if (!req.ok()) {
    return Refuse(IgnoreReason::kMalformed, nullptr, udp->src_ip,
                  std::string(req.status().message()));
  }
  if (auto refused = RefuseByAddress(*udp, *req, meta, net, config)) {
    return *refused;
  }
  auto it = net.interfaces.find(meta.ifindex);
  const InterfaceInfo* info =
      it != net.interfaces.end() ? &it->second : nullptr;
  RequestContext ctx;
  ctx.dst_port = udp->dst_port;
  ctx.src_ip = udp->src_ip;
  ctx.src_port = udp->src_port;
  if (udp->dst_ip != wire::kIpv4Broadcast) {
    ctx.server_ip = udp->dst_ip;  // the address the relay or client chose
  } else if (info != nullptr) {
    ctx.server_ip = ServerAddress(*req, *udp, *info);
  }
  Decision d = Respond(*req, ctx, config, recall);
  if (auto* ig = std::get_if<Ignore>(&d)) {
    return Refuse(ig->reason, &*req, udp->src_ip);
  }
  return Encode(std::move(d), *req, meta, info);
}

}  // namespace proxydhcp
