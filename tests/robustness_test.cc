// The parsers and Respond on hostile input: every prefix of the real captures,
// and 100k random and mutated packets. Nothing may crash, hang or trip
// ASan/UBSan (scripts/test runs this under both); replies stay well-formed.
#include <random>

#include "gtest/gtest.h"
#include "pcap_frames.h"
#include "proxydhcp/describe.h"
#include "proxydhcp/respond.h"
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

// Runs one frame through the whole receive path; checks what a reply must be.
void Exercise(absl::Span<const uint8_t> frame, const ResponderConfig& config) {
  auto udp = wire::ParseEthernetUdp(frame);
  if (!udp.ok()) return;
  auto msg = ParseDhcp(udp->payload);
  if (!msg.ok()) return;
  (void)DescribeMessage(*msg);
  RequestContext ctx{udp->dst_port, udp->src_ip, udp->src_port, 0x0a000001};
  Decision d = Respond(*msg, ctx, config);
  if (auto* r = std::get_if<Reply>(&d)) {
    std::vector<uint8_t> out = SerializeDhcp(r->message);
    ASSERT_GE(out.size(), kMinMessageSize);
    auto back = ParseDhcp(out);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->options.all(), r->message.options.all());
    ASSERT_FALSE(r->message.options.Has(kOptLeaseTime));
  }
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
      (void)ParseDhcp(absl::MakeConstSpan(udp->payload).first(n));
    }
  }
}

TEST(Robustness, HundredThousandRandomAndMutatedPackets) {
  const ResponderConfig config = Config();
  auto seeds = Seeds();
  std::mt19937 rng(20261126);
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
    }
    Exercise(p, config);
    // Also straight into the DHCP parser, without framing.
    auto m = ParseDhcp(p);
    if (m.ok()) (void)Classify(*m, config.classify);
  }
}

}  // namespace
}  // namespace proxydhcp
