// Ethernet II / IPv4 / UDP framing, for the AF_PACKET path and for pcaps.
// Parse and build are pure; build computes the IPv4 header checksum and a real
// UDP checksum.
#ifndef PXEPROXY_WIRE_UDP_FRAME_H_
#define PXEPROXY_WIRE_UDP_FRAME_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "wire/addr.h"

namespace wire {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint8_t kIpProtoUdp = 17;

struct UdpDatagram {
  MacAddr src_mac{};
  MacAddr dst_mac{};
  Ipv4 src_ip = 0;
  Ipv4 dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ttl = 64;
  std::vector<uint8_t> payload;  // owned: never points into a receive buffer
  // Set by the parsers (ignored by the builders): whether the IPv4 header
  // checksum verifies, the UDP checksum field (0: the sender computed none,
  // RFC 768) and whether a non-zero one verifies over the pseudo header.
  bool ip_checksum_ok = true;
  uint16_t udp_checksum = 0;
  bool udp_checksum_ok = true;
};

// An Ethernet II frame (one 802.1Q tag is skipped) carrying IPv4/UDP.
absl::StatusOr<UdpDatagram> ParseEthernetUdp(absl::Span<const uint8_t> frame);
// An IPv4 packet carrying UDP (no link header); MACs are left zero.
absl::StatusOr<UdpDatagram> ParseIpv4Udp(absl::Span<const uint8_t> packet);

std::vector<uint8_t> BuildEthernetUdp(const UdpDatagram& d);
std::vector<uint8_t> BuildIpv4Udp(const UdpDatagram& d);

// RFC 1071 one's-complement sum, folded and complemented.
uint16_t InternetChecksum(absl::Span<const uint8_t> data, uint32_t initial = 0);
// True when the IPv4 header checksum and (non-zero) UDP checksum verify.
bool VerifyIpv4UdpChecksums(absl::Span<const uint8_t> packet);

}  // namespace wire

#endif  // PXEPROXY_WIRE_UDP_FRAME_H_
