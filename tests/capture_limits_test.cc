// The diagnose mode stays bounded on a busy segment and on a client that
// retries for hours: evidence lists are capped (the first ones and the
// latest, with a count of the rest), and DHCP clients that are not
// network-booting keep only their first few events.
#include "capture/describe.h"
#include "capture/diagnosis.h"
#include "capture/finding.h"
#include "capture/timeline.h"
#include "gtest/gtest.h"
#include "wire/dhcp_message.h"
#include "wire/udp_frame.h"

namespace capture {
namespace {

TEST(Evidence, CappedKeepingFirstAndLatest) {
  Finding f;
  for (int n = 1; n <= 100; ++n) {
    AddEvidence(f, n, absl::FromUnixSeconds(n));
    AddEvidence(f, n, absl::FromUnixSeconds(n));  // the same event again
  }
  ASSERT_EQ(f.evidence.size(), kMaxEvidence);
  EXPECT_EQ(f.evidence.front().number, 1);
  EXPECT_EQ(f.evidence[kMaxEvidence - 2].number,
            static_cast<int>(kMaxEvidence) - 1);
  EXPECT_EQ(f.evidence.back().number, 100);
  EXPECT_EQ(f.evidence_more, 100 - static_cast<int>(kMaxEvidence));
}

Frame DhcpFrame(int number, uint8_t last_mac_byte, uint32_t xid,
                bool uefi = false) {
  wire::DhcpMessage m;
  m.op = wire::kBootRequest;
  m.xid = xid;
  m.chaddr[0] = 0x52;
  m.chaddr[5] = last_mac_byte;
  m.options.SetU8(wire::kOptMessageType, wire::kDiscover);
  if (uefi) {
    m.options.SetString(wire::kOptVendorClass,
                        "PXEClient:Arch:00007:UNDI:003016");
    m.options.SetU16(wire::kOptClientArch, 7);
  }
  wire::UdpDatagram u;
  u.src_mac = {0x52, 0, 0, 0, 0, last_mac_byte};
  u.dst_mac = wire::kMacBroadcast;
  u.dst_ip = wire::kIpv4Broadcast;
  u.src_port = 68;
  u.dst_port = 67;
  u.payload = wire::SerializeDhcp(m);
  Frame f;
  f.number = number;
  f.time = absl::FromUnixSeconds(1000 + number);
  f.bytes = wire::BuildEthernetUdp(u);
  f.wire_length = f.bytes.size();
  return f;
}

TEST(Timeline, OtherDhcpClientsStayBounded) {
  TimelineBuilder b(LinkType::kEthernet, AnalyzerConfig{});
  int n = 0;
  for (int i = 0; i < 2000; ++i) {
    b.Add(DhcpFrame(++n, static_cast<uint8_t>(i % 3), i));
  }
  size_t kept = 0;
  for (const ClientTimeline& c : b.sofar().clients) kept += c.events.size();
  EXPECT_EQ(kept, 3 * kMaxOtherClientEvents);
  EXPECT_EQ(b.sofar().events_dropped,
            2000 - 3 * static_cast<int64_t>(kMaxOtherClientEvents));
  Timeline t = std::move(b).Finish();
  EXPECT_EQ(t.other_dhcp_clients, 3);
  EXPECT_TRUE(t.clients.empty());
}

// The dry run keeps the adaptive UEFI strategy's memory as the daemon does:
// a UEFI client that DISCOVERs again (new xid, 5 s later, nothing reached)
// would get the other strategy, and the dry run says so.
TEST(DryRun, AdaptiveUefiStrategy) {
  AnalyzerConfig config;
  config.responder.boot_files[proxydhcp::BootArch::kEfiX64] = "snponly.efi";
  TimelineBuilder b(LinkType::kEthernet, config);
  b.Add(DhcpFrame(1, 7, 0x1111, true));
  b.Add(DhcpFrame(6, 7, 0x2222, true));  // 5 s later, a new xid
  Timeline t = std::move(b).Finish();
  ASSERT_EQ(t.clients.size(), 1u);
  ASSERT_EQ(t.clients[0].events.size(), 2u);
  const auto& first = std::get<DhcpEvent>(t.clients[0].events[0].body);
  const auto& second = std::get<DhcpEvent>(t.clients[0].events[1].body);
  ASSERT_TRUE(first.dry_run && first.dry_run->answers);
  ASSERT_TRUE(second.dry_run && second.dry_run->answers);
  EXPECT_FALSE(first.dry_run->reply.uefi_switched);
  EXPECT_TRUE(second.dry_run->reply.uefi_switched);
  EXPECT_EQ(second.dry_run->reply.uefi_strategy,
            proxydhcp::UefiStrategy::kBypass);
  EXPECT_NE(DescribeDryRun(*second.dry_run).find("adaptive: bypass"),
            std::string::npos)
      << DescribeDryRun(*second.dry_run);
}

}  // namespace
}  // namespace capture
