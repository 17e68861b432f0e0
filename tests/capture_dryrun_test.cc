// The diagnose dry run goes through the daemon's own entry
// (proxydhcp::Decide): on an interface with several addresses it answers
// from the one the daemon would, and it refuses what the daemon refuses.
#include "absl/status/status.h"
#include "capture/diagnose.h"
#include "gtest/gtest.h"

namespace capture {
namespace {

wire::Ipv4 Ip(const char* s) { return wire::ParseIpv4(s).value(); }

proxydhcp::ResponderConfig Responder() {
  proxydhcp::ResponderConfig c;
  c.boot_files[proxydhcp::BootArch::kBios] = "undionly.kpxe";
  c.boot_files[proxydhcp::BootArch::kEfiX64] = "snponly.efi";
  c.menu_url = "http://10.231.0.1/menu.ipxe";
  return c;
}

// Every dry run of the EDK2 capture, in order: (port, reply source or 0).
std::vector<std::pair<uint16_t, wire::Ipv4>> DryRuns(
    const std::vector<proxydhcp::IfAddr>& self) {
  absl::Status read_error;
  auto report =
      AnalyzeFile(std::string(PXEPROXY_SOURCE_DIR) +
                      "/tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap",
                  AnalyzerConfig{Responder(), self}, &read_error);
  EXPECT_TRUE(report.ok()) << report.status();
  std::vector<std::pair<uint16_t, wire::Ipv4>> out;
  if (!report.ok()) return out;
  for (const ClientReport& c : report->clients) {
    for (const Event& e : c.timeline.events) {
      const auto* d = std::get_if<DhcpEvent>(&e.body);
      if (d == nullptr || !d->dry_run) continue;
      out.emplace_back(d->dst_port,
                       d->dry_run->answers ? d->dry_run->reply.src_ip : 0);
    }
  }
  return out;
}

TEST(DryRun, SeveralAddressesAnswerFromTheClientsSubnet) {
  // 172.16.0.1 first: the 4011 request from 10.231.0.141 must still be
  // answered from 10.231.0.1, as the daemon does, not from the first address.
  auto runs = DryRuns({{Ip("172.16.0.1"), 24}, {Ip("10.231.0.1"), 24}});
  int binl = 0;
  for (const auto& [port, src] : runs) {
    if (port != 4011) continue;
    ++binl;
    EXPECT_EQ(wire::FormatIpv4(src), "10.231.0.1");
  }
  EXPECT_GT(binl, 0);
}

TEST(DryRun, NoAddressKnownUsesThePlaceholder) {
  auto runs = DryRuns({});
  ASSERT_FALSE(runs.empty());
  for (const auto& [port, src] : runs) {
    if (src != 0) EXPECT_EQ(src, kPlaceholderSelf);
  }
}

}  // namespace
}  // namespace capture
