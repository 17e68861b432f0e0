// Frame decoding for the diagnose mode: link layer -> IPv4 -> UDP datagram or
// the first bytes of a TCP segment, plus the HTTP request line. Pure: bytes in,
// values out. DHCP and TFTP themselves are parsed by wire/ (wire::ParseDhcp,
// wire::ParseTftpPacket).
#ifndef PXEPROXY_CAPTURE_DECODE_H_
#define PXEPROXY_CAPTURE_DECODE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "wire/addr.h"

namespace capture {

// The link types a capture may have (the shell maps libpcap's DLT values).
enum class LinkType { kEthernet, kLinuxSll, kRawIpv4 };

// One captured frame, numbered from 1 as Wireshark and tcpdump count.
struct Frame {
  int number = 0;
  absl::Time time;
  std::vector<uint8_t> bytes;  // what was captured (maybe less than the wire)
  uint32_t wire_length = 0;    // the frame's length on the wire
};

enum class Transport { kNone, kUdp, kTcp };

// The parts of an IPv4 packet the diagnosis looks at. `payload` is what the
// capture holds of the UDP/TCP payload; `payload_length` is its real length
// (they differ when the capture was taken with a small snap length).
struct Packet {
  wire::MacAddr src_mac{};
  wire::MacAddr dst_mac{};
  bool has_macs = false;
  wire::Ipv4 src_ip = 0;
  wire::Ipv4 dst_ip = 0;
  Transport transport = Transport::kNone;
  bool fragment = false;  // an IPv4 fragment (its first piece keeps ports)
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::vector<uint8_t> payload;
  size_t payload_length = 0;
  bool truncated() const { return payload.size() < payload_length; }
};

// nullopt for frames that are not IPv4 (ARP, IPv6...); an error names the
// layer and the numbers when an IPv4 header is damaged.
absl::StatusOr<std::optional<Packet>> DecodeFrame(LinkType link,
                                                  absl::Span<const uint8_t> b);

struct HttpRequest {
  std::string method;  // GET, HEAD
  std::string path;
  std::string host;  // the Host header when it is in the captured bytes
};

// The request line of an HTTP request that starts this TCP payload.
std::optional<HttpRequest> ParseHttpRequest(absl::Span<const uint8_t> payload);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DECODE_H_
