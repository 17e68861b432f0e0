// Table-driven tests of the diagnose mode's decoders and small helpers.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "capture/decode.h"
#include "capture/describe.h"
#include "capture/diagnose.h"
#include "capture/diagnosis.h"
#include "capture/index.h"
#include "capture/pcap_source.h"
#include "gtest/gtest.h"
#include "tests/capture_frames.h"
#include "wire/udp_frame.h"

namespace capture {
namespace {

std::vector<uint8_t> V(absl::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

wire::UdpDatagram Datagram(uint16_t src_port, uint16_t dst_port,
                           std::vector<uint8_t> payload) {
  wire::UdpDatagram d;
  d.src_mac = {2, 0, 0, 0, 0, 1};
  d.dst_mac = {2, 0, 0, 0, 0, 2};
  d.src_ip = 0x0a000001;
  d.dst_ip = 0x0a000002;
  d.src_port = src_port;
  d.dst_port = dst_port;
  d.payload = std::move(payload);
  return d;
}

TEST(ParseHttpRequest, Table) {
  EXPECT_EQ(
      ParseHttpRequest(V("GET /menu.ipxe HTTP/1.1\r\nHost: h\r\n\r\n"))->path,
      "/menu.ipxe");
  EXPECT_EQ(
      ParseHttpRequest(V("HEAD /ipxe.efi HTTP/1.1\r\nHost: h:8080\r\n"))->host,
      "h:8080");
  EXPECT_FALSE(ParseHttpRequest(V("POST / HTTP/1.1\r\n")).has_value());
  EXPECT_FALSE(ParseHttpRequest(V("GET ")).has_value());
  EXPECT_FALSE(ParseHttpRequest(V("")).has_value());
  EXPECT_EQ(ParseHttpRequest(V("GET /x"))->path, "/x");  // snapped request
}

TEST(DecodeFrame, EthernetVlanSllRaw) {
  wire::UdpDatagram d = Datagram(68, 67, V("hello"));
  std::vector<uint8_t> eth = wire::BuildEthernetUdp(d);
  auto p = DecodeFrame(LinkType::kEthernet, eth);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->dst_port, 67);
  EXPECT_EQ((*p)->payload, V("hello"));
  EXPECT_TRUE((*p)->has_macs);

  std::vector<uint8_t> vlan(eth.begin(), eth.begin() + 12);
  vlan.insert(vlan.end(), {0x81, 0x00, 0x00, 0x05});
  vlan.insert(vlan.end(), eth.begin() + 12, eth.end());
  p = DecodeFrame(LinkType::kEthernet, vlan);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->src_port, 68);

  std::vector<uint8_t> sll = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0};
  sll.insert(sll.end(), eth.begin() + 14, eth.end());
  p = DecodeFrame(LinkType::kLinuxSll, sll);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->src_mac, d.src_mac);

  std::vector<uint8_t> raw(eth.begin() + 14, eth.end());
  p = DecodeFrame(LinkType::kRawIpv4, raw);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->src_ip, 0x0a000001u);
}

TEST(DecodeFrame, SnappedFragmentTcpAndNoise) {
  wire::UdpDatagram d = Datagram(51572, 1062, std::vector<uint8_t>(1472, 1));
  std::vector<uint8_t> eth = wire::BuildEthernetUdp(d);
  eth.resize(64);  // tcpdump -s 64
  auto p = DecodeFrame(LinkType::kEthernet, eth);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_TRUE((*p)->truncated());
  EXPECT_EQ((*p)->payload_length, 1472u);
  EXPECT_EQ((*p)->payload.size(), 64u - 42u);

  capture::Frame like;
  capture_test::Frames pieces = capture_test::Fragmented(
      like, Datagram(1, 2, std::vector<uint8_t>(3000, 0)), 9);
  ASSERT_EQ(pieces.size(), 3u);
  for (const capture::Frame& f : pieces) {
    auto q = DecodeFrame(LinkType::kEthernet, f.bytes);
    ASSERT_TRUE(q.ok() && q->has_value());
    EXPECT_TRUE((*q)->fragment);
  }

  std::vector<uint8_t> tcp = wire::BuildEthernetUdp(Datagram(1, 2, {}));
  tcp[23] = 6;  // protocol TCP; a 20-byte header follows
  tcp.resize(34);
  std::vector<uint8_t> th(20, 0);
  th[1] = 80;
  th[3] = 80;
  th[12] = 5 << 4;
  tcp.insert(tcp.end(), th.begin(), th.end());
  for (char ch : std::string("GET / HTTP/1.1\r\n")) tcp.push_back(ch);
  tcp[16] = 0;
  tcp[17] = static_cast<uint8_t>(tcp.size() - 14);
  p = DecodeFrame(LinkType::kEthernet, tcp);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->transport, Transport::kTcp);
  EXPECT_TRUE(ParseHttpRequest((*p)->payload).has_value());

  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  p = DecodeFrame(LinkType::kEthernet, arp);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());

  std::vector<uint8_t> damaged = wire::BuildEthernetUdp(Datagram(1, 2, {}));
  damaged[14] = 0x41;  // IHL 4: shorter than the header itself
  EXPECT_FALSE(DecodeFrame(LinkType::kEthernet, damaged).ok());
}

TEST(Timeline, DamagedDhcpFromAKnownClientIsOnItsTimeline) {
  absl::StatusOr<capture_test::Frames> frames = capture_test::ReadFrames(
      capture_test::SourceDir() +
      "/tests/fixtures/captures/seabios-ipxe-rom.pcap");
  ASSERT_TRUE(frames.ok());
  TimelineBuilder b(LinkType::kEthernet, capture_test::GoldenConfig());
  size_t discover =
      capture_test::First(*frames, capture_test::ClientDhcp(wire::kDiscover));
  capture::Frame broken = (*frames)[discover];
  b.Add(broken);
  // Option 53's length byte now overruns the packet.
  wire::UdpDatagram u = *capture_test::Udp(broken);
  u.payload.resize(244);
  u.payload[240] = 53;
  u.payload[241] = 200;
  broken = capture_test::WithUdp(broken, u);
  broken.number = (*frames)[discover].number + 1;
  b.Add(broken);
  Timeline t = std::move(b).Finish();
  ASSERT_EQ(t.clients.size(), 1u);
  ASSERT_EQ(t.clients[0].events.size(), 2u);
  auto* bad = std::get_if<MalformedEvent>(&t.clients[0].events[1].body);
  ASSERT_NE(bad, nullptr);
  EXPECT_NE(bad->what.find("option 53"), std::string::npos) << bad->what;
  EXPECT_EQ(t.decode_errors, 1);
}

TEST(PcapSource, LiveFilterCompiles) {
  EXPECT_TRUE(CheckFilter(LiveFilter()).ok()) << CheckFilter(LiveFilter());
  EXPECT_FALSE(CheckFilter("udp port").ok());
}

TEST(Diagnosis, IpxeBinaryNames) {
  proxydhcp::ResponderConfig config;
  config.boot_files[proxydhcp::BootArch::kBios] = "custom/boot.bin";
  for (const char* yes :
       {"undionly.kpxe", "ipxe.efi", "snponly.efi", "http://h/x/IPXE.EFI",
        "ipxe.pxe", "ipxe.lkrn", "custom/boot.bin", "undionly.kkpxe"}) {
    EXPECT_TRUE(LooksLikeIpxeBinary(yes, config)) << yes;
  }
  for (const char* no : {"http://h/menu.ipxe", "boot.php?mac=${net0/mac}",
                         "grubx64.efi", "pxelinux.0", "tftp://h/menu.ipxe"}) {
    EXPECT_FALSE(LooksLikeIpxeBinary(no, config)) << no;
  }
}

TEST(Describe, PrintableEscapesHostileBytes) {
  EXPECT_EQ(Printable("snponly.efi"), "snponly.efi");
  EXPECT_EQ(Printable(std::string("a\x1b[2J\xff\"\\", 8)),
            "a\\x1b[2J\\xff\\x22\\x5c");
  EXPECT_EQ(Ip(kPlaceholderSelf), "<this host>");
}

}  // namespace
}  // namespace capture
