// The diagnose mode stays bounded on a busy segment and on a client that
// retries for hours: evidence lists are capped (the first ones and the
// latest, with a count of the rest), and DHCP clients that are not
// network-booting keep only their first few events.
#include "capture/diagnosis.h"
#include "capture/findings_util.h"
#include "capture/timeline.h"
#include "gtest/gtest.h"
#include "proxydhcp/dhcp_message.h"
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

Frame DhcpFrame(int number, uint8_t last_mac_byte, uint32_t xid) {
  proxydhcp::DhcpMessage m;
  m.op = proxydhcp::kBootRequest;
  m.xid = xid;
  m.chaddr[0] = 0x52;
  m.chaddr[5] = last_mac_byte;
  m.options.SetU8(proxydhcp::kOptMessageType, proxydhcp::kDiscover);
  wire::UdpDatagram u;
  u.src_mac = {0x52, 0, 0, 0, 0, last_mac_byte};
  u.dst_mac = wire::kMacBroadcast;
  u.dst_ip = wire::kIpv4Broadcast;
  u.src_port = 68;
  u.dst_port = 67;
  u.payload = proxydhcp::SerializeDhcp(m);
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

}  // namespace
}  // namespace capture
