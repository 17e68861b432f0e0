// The parsers and Decide on hostile input: every prefix of the real captures,
// and 100k random and mutated packets. Nothing may crash, hang or trip
// ASan/UBSan (scripts/test runs this under both); replies stay well-formed.
#include <random>

#include "gtest/gtest.h"
#include "pcap_frames.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/describe.h"
#include "wire/udp_frame.h"

namespace proxydhcp {
namespace {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  for (const char* f : {"ovmf-edk2-pxe-to-ipxe-efi.pcap",
                        "seabios-ipxe-rom.pcap", "ovmf-uefi-http-boot.pcap"}) {
    std::string err;
    for (auto& fr : testing_util::ReadPcap(
             testing_util::SourceDir() + "/tests/fixtures/captures/" + f,
             &err)) {
      auto udp = wire::ParseEthernetUdp(fr.bytes);
      if (udp.ok() && (udp->dst_port == 67 || udp->dst_port == 4011)) {
        seeds.push_back(fr.bytes);
      }
    }
  }
  return seeds;
}

ResponderConfig Config() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  c.http_boot_url = "http://10.0.0.1/ipxe.efi";
  return c;
}

// The captures' host: 10.231.0.1/24 on index 2, a default route through it.
NetSnapshot Net() {
  NetSnapshot net;
  InterfaceInfo& eth = net.interfaces[2];
  eth.index = 2;
  eth.ipv4.push_back({0x0ae70001, 24});
  net.routes = RouteTable({{0x0ae70000, 24, {2}}, {0, 0, {2}}});
  return net;
}

// Runs one frame through the daemon's entry (Decide); checks what a reply
// must be: bytes that parse back to the message, within the size limit,
// never to a martian address.
void Exercise(absl::Span<const uint8_t> frame, const ResponderConfig& config) {
  static const NetSnapshot net = Net();
  ReceiveMeta meta;
  meta.ifindex = 2;
  auto udp = wire::ParseEthernetUdp(frame);
  if (udp.ok()) {
    if (auto msg = wire::ParseDhcp(udp->payload); msg.ok()) {
      (void)DescribeMessage(*msg);
    }
  }
  Decision d = Decide(frame, meta, net, config);
  if (auto* r = std::get_if<Reply>(&d)) {
    absl::StatusOr<wire::UdpDatagram> sent =
        r->broadcast ? wire::ParseEthernetUdp(r->bytes)
                     : wire::ParseIpv4Udp(r->bytes);
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_TRUE(sent->ip_checksum_ok && sent->udp_checksum_ok);
    ASSERT_LE(sent->payload.size() + 28, 1500u);
    ASSERT_TRUE(r->broadcast || !IsMartian(sent->dst_ip));
    ASSERT_GE(sent->payload.size(), wire::kMinMessageSize);
    auto back = wire::ParseDhcp(sent->payload);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->options.all(), r->message.options.all());
    ASSERT_FALSE(r->message.options.Has(wire::kOptLeaseTime));
    auto request = wire::ParseDhcp(udp->payload);
    ASSERT_TRUE(request.ok());
    ASSERT_LE(sent->payload.size() + 28, MaxReplyIpSize(*request, 1500));
  }
}

// A mutated frame would mostly stop at the checksum check: make it pass
// (UDP checksum 0 means none; the IPv4 header checksum recomputed) so the
// mutation reaches the DHCP parser and Respond.
void FixChecksums(std::vector<uint8_t>& f) {
  if (f.size() < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00) return;
  size_t ihl = static_cast<size_t>(f[14] & 0x0f) * 4;
  if (ihl < 20 || f.size() < 14 + ihl + 8) return;
  f[14 + ihl + 6] = f[14 + ihl + 7] = 0;
  f[14 + 10] = f[14 + 11] = 0;
  uint16_t c = wire::InternetChecksum(absl::MakeConstSpan(f).subspan(14, ihl));
  f[14 + 10] = static_cast<uint8_t>(c >> 8);
  f[14 + 11] = static_cast<uint8_t>(c);
}

TEST(Robustness, EveryPrefixOfEveryCapturedPacket) {
  const ResponderConfig config = Config();
  auto seeds = Seeds();
  ASSERT_GT(seeds.size(), 10u);
  for (const auto& s : seeds) {
    for (size_t n = 0; n <= s.size(); ++n) {
      Exercise(absl::MakeConstSpan(s).first(n), config);
    }
    // The DHCP payload alone, truncated at every length.
    auto udp = wire::ParseEthernetUdp(s);
    for (size_t n = 0; n <= udp->payload.size(); ++n) {
      (void)wire::ParseDhcp(absl::MakeConstSpan(udp->payload).first(n));
    }
  }
}

TEST(Robustness, HundredThousandRandomAndMutatedPackets) {
  const ResponderConfig config = Config();
  auto seeds = Seeds();
  std::mt19937 rng(20261126);
  int replies = 0;
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> p;
    if (i % 4 == 0) {
      p.resize(rng() % 700);
      for (auto& b : p) b = static_cast<uint8_t>(rng());
    } else {
      p = seeds[rng() % seeds.size()];
      int flips = 1 + rng() % 8;
      for (int f = 0; f < flips && !p.empty(); ++f) {
        // Bias mutations into the option area, where lengths live.
        size_t at = p.size() > 282 && rng() % 2 ? 282 + rng() % (p.size() - 282)
                                                : rng() % p.size();
        p[at] = static_cast<uint8_t>(rng());
      }
      if (rng() % 3 == 0) p.resize(rng() % (p.size() + 1));
      if (rng() % 3 != 0) FixChecksums(p);
    }
    Exercise(p, config);
    replies += std::holds_alternative<Reply>(Decide(
        p,
        [] {
          ReceiveMeta m;
          m.ifindex = 2;
          return m;
        }(),
        Net(), config));
    // Also straight into the DHCP parser, without framing.
    auto m = wire::ParseDhcp(p);
    if (m.ok()) (void)Classify(*m, config.classify);
  }
  // The mutations must reach Respond, not all stop at a checksum.
  EXPECT_GT(replies, 1000);
}

}  // namespace
}  // namespace proxydhcp
