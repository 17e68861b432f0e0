// wire::ParseEthernetUdp and ParseIpv4Udp on arbitrary bytes (the input as an
// Ethernet frame, and as an IPv4 packet). Properties: whatever parses builds
// back (BuildEthernetUdp / BuildIpv4Udp) into bytes that parse to the same
// addresses, ports, TTL and payload, with both checksums verifying.
#include <cstdint>

#include "fuzz_util.h"
#include "wire/udp_frame.h"

namespace {

void CheckSame(const wire::UdpDatagram& a, const wire::UdpDatagram& b,
               bool macs) {
  if (macs) {
    FUZZ_CHECK(a.src_mac == b.src_mac);
    FUZZ_CHECK(a.dst_mac == b.dst_mac);
  }
  FUZZ_CHECK(a.src_ip == b.src_ip);
  FUZZ_CHECK(a.dst_ip == b.dst_ip);
  FUZZ_CHECK(a.src_port == b.src_port);
  FUZZ_CHECK(a.dst_port == b.dst_port);
  FUZZ_CHECK(a.ttl == b.ttl);
  FUZZ_CHECK(a.payload == b.payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::Span<const uint8_t> in(data, size);
  absl::StatusOr<wire::UdpDatagram> eth = wire::ParseEthernetUdp(in);
  if (eth.ok()) {
    FUZZ_CHECK(eth->payload.size() + 28 <= size);
    std::vector<uint8_t> built = wire::BuildEthernetUdp(*eth);
    absl::StatusOr<wire::UdpDatagram> back = wire::ParseEthernetUdp(built);
    FUZZ_CHECK(back.ok());
    CheckSame(*eth, *back, true);
    FUZZ_CHECK(back->ip_checksum_ok && back->udp_checksum_ok);
    FUZZ_CHECK(back->udp_checksum != 0);  // Build always computes one
    FUZZ_CHECK(
        wire::VerifyIpv4UdpChecksums(absl::MakeConstSpan(built).subspan(14)));
  }
  absl::StatusOr<wire::UdpDatagram> ip = wire::ParseIpv4Udp(in);
  if (ip.ok()) {
    FUZZ_CHECK(ip->payload.size() + 28 <= size);
    std::vector<uint8_t> built = wire::BuildIpv4Udp(*ip);
    absl::StatusOr<wire::UdpDatagram> back = wire::ParseIpv4Udp(built);
    FUZZ_CHECK(back.ok());
    CheckSame(*ip, *back, false);
    FUZZ_CHECK(back->ip_checksum_ok && back->udp_checksum_ok);
    FUZZ_CHECK(wire::VerifyIpv4UdpChecksums(built));
  }
  // Never reads outside the bytes, whatever the header claims.
  wire::VerifyIpv4UdpChecksums(in);
  wire::InternetChecksum(in);
  return 0;
}
