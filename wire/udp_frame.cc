#include "wire/udp_frame.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "wire/byte_reader.h"

namespace wire {
namespace {

constexpr size_t kEthHeader = 14;
constexpr size_t kIpHeader = 20;
constexpr size_t kUdpHeader = 8;

void PutU16(std::vector<uint8_t>& out, size_t at, uint16_t v) {
  out[at] = static_cast<uint8_t>(v >> 8);
  out[at + 1] = static_cast<uint8_t>(v);
}
void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  PutU16(out, at, static_cast<uint16_t>(v >> 16));
  PutU16(out, at + 2, static_cast<uint16_t>(v));
}

uint32_t SumWords(absl::Span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += data[i] << 8 | data[i + 1];
  if (i < data.size()) sum += data[i] << 8;
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t PseudoHeaderSum(Ipv4 src, Ipv4 dst, size_t udp_len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
         kIpProtoUdp + static_cast<uint32_t>(udp_len);
}

}  // namespace

uint16_t InternetChecksum(absl::Span<const uint8_t> data, uint32_t initial) {
  return Fold(SumWords(data, initial));
}

absl::StatusOr<UdpDatagram> ParseIpv4Udp(absl::Span<const uint8_t> packet) {
  ByteReader r(packet);
  uint8_t ver_ihl, tos, ttl, proto;
  uint16_t total_len, id, frag, csum;
  uint32_t src, dst;
  if (!r.ReadU8(&ver_ihl) || !r.ReadU8(&tos) || !r.ReadU16(&total_len) ||
      !r.ReadU16(&id) || !r.ReadU16(&frag) || !r.ReadU8(&ttl) ||
      !r.ReadU8(&proto) || !r.ReadU16(&csum) || !r.ReadU32(&src) ||
      !r.ReadU32(&dst)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ipv4: want %d header bytes, got %d", kIpHeader, packet.size()));
  }
  if (ver_ihl >> 4 != 4) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ipv4: version %d", ver_ihl >> 4));
  }
  size_t ihl = static_cast<size_t>(ver_ihl & 0x0f) * 4;
  if (ihl < kIpHeader || total_len < ihl || total_len > packet.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ipv4: header length %d, total length %d, have %d bytes", ihl,
        total_len, packet.size()));
  }
  if ((frag & 0x3fff) != 0) {
    return absl::InvalidArgumentError("ipv4: fragment");
  }
  if (proto != kIpProtoUdp) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ipv4: protocol %d is not UDP", proto));
  }
  ByteReader u(packet.subspan(ihl, total_len - ihl));
  UdpDatagram d;
  uint16_t udp_len, udp_csum;
  if (!u.ReadU16(&d.src_port) || !u.ReadU16(&d.dst_port) ||
      !u.ReadU16(&udp_len) || !u.ReadU16(&udp_csum)) {
    return absl::InvalidArgumentError("udp: truncated header");
  }
  if (udp_len < kUdpHeader || udp_len > total_len - ihl) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "udp: length %d, have %d bytes", udp_len, total_len - ihl));
  }
  absl::Span<const uint8_t> payload;
  u.ReadBytes(udp_len - kUdpHeader, &payload);
  d.payload.assign(payload.begin(), payload.end());
  d.src_ip = src;
  d.dst_ip = dst;
  d.ttl = ttl;
  d.ip_checksum_ok = InternetChecksum(packet.subspan(0, ihl)) == 0;
  d.udp_checksum = udp_csum;
  d.udp_checksum_ok = udp_csum == 0 ||
                      InternetChecksum(packet.subspan(ihl, udp_len),
                                       PseudoHeaderSum(src, dst, udp_len)) == 0;
  return d;
}

absl::StatusOr<UdpDatagram> ParseEthernetUdp(absl::Span<const uint8_t> frame) {
  ByteReader r(frame);
  absl::Span<const uint8_t> dst, src;
  uint16_t type;
  if (!r.ReadBytes(6, &dst) || !r.ReadBytes(6, &src) || !r.ReadU16(&type)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ethernet: want %d header bytes, got %d", kEthHeader, frame.size()));
  }
  if (type == kEtherTypeVlan) {
    uint16_t tci;
    if (!r.ReadU16(&tci) || !r.ReadU16(&type)) {
      return absl::InvalidArgumentError("ethernet: truncated 802.1Q tag");
    }
  }
  if (type != kEtherTypeIpv4) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ethernet: type 0x%04x is not IPv4", type));
  }
  absl::StatusOr<UdpDatagram> d = ParseIpv4Udp(r.Rest());
  if (!d.ok()) return d.status();
  std::copy(dst.begin(), dst.end(), d->dst_mac.begin());
  std::copy(src.begin(), src.end(), d->src_mac.begin());
  return d;
}

std::vector<uint8_t> BuildIpv4Udp(const UdpDatagram& d) {
  size_t udp_len = kUdpHeader + d.payload.size();
  std::vector<uint8_t> out(kIpHeader + udp_len);
  out[0] = 0x45;
  PutU16(out, 2, static_cast<uint16_t>(out.size()));
  // Identification 0 and no DF: a DHCP reply is never fragmented, and some
  // ROMs choke on DF (dnsmasq history, docs/protocol.md "Reply sizes").
  out[8] = d.ttl;
  out[9] = kIpProtoUdp;
  PutU32(out, 12, d.src_ip);
  PutU32(out, 16, d.dst_ip);
  PutU16(out, 10, InternetChecksum(absl::MakeConstSpan(out.data(), kIpHeader)));
  PutU16(out, 20, d.src_port);
  PutU16(out, 22, d.dst_port);
  PutU16(out, 24, static_cast<uint16_t>(udp_len));
  std::copy(d.payload.begin(), d.payload.end(), out.begin() + 28);
  uint16_t csum =
      InternetChecksum(absl::MakeConstSpan(out.data() + kIpHeader, udp_len),
                       PseudoHeaderSum(d.src_ip, d.dst_ip, udp_len));
  PutU16(out, 26, csum == 0 ? 0xffff : csum);  // RFC 768: 0 means "none"
  return out;
}

std::vector<uint8_t> BuildEthernetUdp(const UdpDatagram& d) {
  std::vector<uint8_t> ip = BuildIpv4Udp(d);
  std::vector<uint8_t> out(kEthHeader + ip.size());
  std::copy(d.dst_mac.begin(), d.dst_mac.end(), out.begin());
  std::copy(d.src_mac.begin(), d.src_mac.end(), out.begin() + 6);
  PutU16(out, 12, kEtherTypeIpv4);
  std::copy(ip.begin(), ip.end(), out.begin() + kEthHeader);
  return out;
}

bool VerifyIpv4UdpChecksums(absl::Span<const uint8_t> packet) {
  if (packet.size() < kIpHeader + kUdpHeader) return false;
  size_t ihl = static_cast<size_t>(packet[0] & 0x0f) * 4;
  if (ihl < kIpHeader || packet.size() < ihl + kUdpHeader) return false;
  if (InternetChecksum(packet.subspan(0, ihl)) != 0) return false;
  size_t udp_len = packet[ihl + 4] << 8 | packet[ihl + 5];
  if (udp_len < kUdpHeader || udp_len > packet.size() - ihl) return false;
  if (packet[ihl + 6] == 0 && packet[ihl + 7] == 0) return true;
  Ipv4 src = packet[12] << 24 | packet[13] << 16 | packet[14] << 8 | packet[15];
  Ipv4 dst = packet[16] << 24 | packet[17] << 16 | packet[18] << 8 | packet[19];
  return InternetChecksum(packet.subspan(ihl, udp_len),
                          PseudoHeaderSum(src, dst, udp_len)) == 0;
}

}  // namespace wire
