#include "capture/decode.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "wire/byte_reader.h"
#include "wire/udp_frame.h"

namespace capture {
namespace {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeVlan = 0x8100;

struct Link {
  Packet packet;  // MACs filled in
  absl::Span<const uint8_t> ip;
  bool is_ipv4 = false;
};

// Ethernet II with at most one 802.1Q tag.
Link StripEthernet(absl::Span<const uint8_t> b) {
  Link l;
  wire::ByteReader r(b);
  absl::Span<const uint8_t> dst, src;
  uint16_t type = 0;
  if (!r.ReadBytes(6, &dst) || !r.ReadBytes(6, &src) || !r.ReadU16(&type)) {
    return l;
  }
  uint16_t tci;
  if (type == kEtherTypeVlan && (!r.ReadU16(&tci) || !r.ReadU16(&type))) {
    return l;
  }
  std::copy(dst.begin(), dst.end(), l.packet.dst_mac.begin());
  std::copy(src.begin(), src.end(), l.packet.src_mac.begin());
  l.packet.has_macs = true;
  l.is_ipv4 = type == kEtherTypeIpv4;
  l.ip = r.Rest();
  return l;
}

// Linux "cooked" capture (the "any" device): 16 bytes, sender address only.
Link StripLinuxSll(absl::Span<const uint8_t> b) {
  Link l;
  wire::ByteReader r(b);
  uint16_t packet_type, hatype, halen, protocol;
  absl::Span<const uint8_t> addr;
  if (!r.ReadU16(&packet_type) || !r.ReadU16(&hatype) || !r.ReadU16(&halen) ||
      !r.ReadBytes(8, &addr) || !r.ReadU16(&protocol)) {
    return l;
  }
  if (halen == 6)
    std::copy(addr.begin(), addr.begin() + 6, l.packet.src_mac.begin());
  l.is_ipv4 = protocol == kEtherTypeIpv4;
  l.ip = r.Rest();
  return l;
}

// A header-only IPv4 walk for what wire::ParseIpv4Udp refuses on purpose:
// fragments, TCP, and packets the capture's snap length cut short.
absl::StatusOr<std::optional<Packet>> DecodeIpv4Loosely(
    absl::Span<const uint8_t> ip, Packet p) {
  wire::ByteReader r(ip);
  uint8_t ver_ihl = 0, proto = 0;
  uint16_t total_len = 0, frag = 0;
  r.ReadU8(&ver_ihl);
  r.Skip(1);
  r.ReadU16(&total_len);
  r.Skip(2);
  r.ReadU16(&frag);
  r.Skip(1);
  r.ReadU8(&proto);
  r.Skip(2);
  r.ReadU32(&p.src_ip);
  r.ReadU32(&p.dst_ip);
  size_t ihl = static_cast<size_t>(ver_ihl & 0x0f) * 4;
  if (!r.ok() || ver_ihl >> 4 != 4 || ihl < 20 || total_len < ihl) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ipv4: header damaged (version/ihl 0x%02x, total length %d, %d bytes "
        "captured)",
        ver_ihl, total_len, ip.size()));
  }
  if (proto != wire::kIpProtoUdp && proto != kIpProtoTcp) return std::nullopt;
  p.fragment = (frag & 0x3fff) != 0;
  const bool first_piece = (frag & 0x1fff) == 0;
  p.transport = proto == kIpProtoTcp ? Transport::kTcp : Transport::kUdp;
  if (!first_piece || ihl > ip.size()) return p;
  absl::Span<const uint8_t> l4 = ip.subspan(ihl);
  wire::ByteReader h(l4);
  h.ReadU16(&p.src_port);
  h.ReadU16(&p.dst_port);
  size_t header = 8;
  if (p.transport == Transport::kTcp) {
    uint8_t offset = 0;
    h.Skip(8);
    h.ReadU8(&offset);
    header = static_cast<size_t>(offset >> 4) * 4;
  }
  if (!h.ok() || header < 8) return p;  // ports unknown: treated as noise
  size_t l4_len = total_len - ihl;
  p.payload_length = l4_len > header ? l4_len - header : 0;
  if (header < l4.size()) {
    size_t have = std::min(l4.size() - header, p.payload_length);
    p.payload.assign(l4.begin() + header, l4.begin() + header + have);
  }
  return p;
}

}  // namespace

absl::StatusOr<std::optional<Packet>> DecodeFrame(LinkType link,
                                                  absl::Span<const uint8_t> b) {
  Link l;
  switch (link) {
    case LinkType::kEthernet:
      l = StripEthernet(b);
      break;
    case LinkType::kLinuxSll:
      l = StripLinuxSll(b);
      break;
    case LinkType::kRawIpv4:
      l.ip = b;
      l.is_ipv4 = !b.empty() && b[0] >> 4 == 4;
      break;
  }
  if (!l.is_ipv4) return std::nullopt;
  absl::StatusOr<wire::UdpDatagram> udp = wire::ParseIpv4Udp(l.ip);
  if (udp.ok()) {
    Packet p = std::move(l.packet);
    p.src_ip = udp->src_ip;
    p.dst_ip = udp->dst_ip;
    p.transport = Transport::kUdp;
    p.src_port = udp->src_port;
    p.dst_port = udp->dst_port;
    p.payload = std::move(udp->payload);
    p.payload_length = p.payload.size();
    return p;
  }
  return DecodeIpv4Loosely(l.ip, std::move(l.packet));
}

std::optional<HttpRequest> ParseHttpRequest(absl::Span<const uint8_t> payload) {
  absl::string_view text(reinterpret_cast<const char*>(payload.data()),
                         payload.size());
  if (!absl::StartsWith(text, "GET ") && !absl::StartsWith(text, "HEAD ")) {
    return std::nullopt;
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text, "\r\n");
  std::vector<absl::string_view> words = absl::StrSplit(lines[0], ' ');
  if (words.size() < 2 || words[1].empty()) return std::nullopt;
  HttpRequest req{std::string(words[0]), std::string(words[1]), ""};
  for (size_t i = 1; i < lines.size(); ++i) {
    if (absl::StartsWithIgnoreCase(lines[i], "host:")) {
      req.host = std::string(absl::StripAsciiWhitespace(lines[i].substr(5)));
    }
  }
  return req;
}

}  // namespace capture
