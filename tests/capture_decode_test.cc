// Table-driven tests of the diagnose mode's decoders and small helpers.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "capture/decode.h"
#include "capture/describe.h"
#include "capture/diagnose.h"
#include "capture/diagnosis.h"
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

TEST(ParseTftp, Table) {
  struct Row {
    std::string bytes;
    size_t wire_length;
    bool ok;
    uint16_t op;
    std::string filename;
    size_t options;
  };
  using namespace std::string_literals;
  const Row rows[] = {
      {"\0\1snponly.efi\0octet\0tsize\0"
       "0\0blksize\0"
       "1468\0"s,
       0, true, 1, "snponly.efi", 2},
      {"\0\1name\0octet\0"s, 0, true, 1, "name", 0},
      {"\0\1name\0octet\0blksize\0"
       "14"s,
       0, true, 1, "name", 0},
      {"\0\1name-without-nul"s, 0, false, 0, "", 0},
      {"\0\6blksize\0"
       "1468\0tsize\0"
       "9\0"s,
       0, true, 6, "", 2},
      {"\0\6blksize\0"
       "14"s,
       0, false, 0, "", 0},
      {"\0\3\0\1abc"s, 516, true, 3, "", 0},
      {"\0\4\0\0"s, 0, true, 4, "", 0},
      {"\0\4\0"s, 0, false, 0, "", 0},
      {"\0\5\0\1File not found"s, 0, true, 5, "", 0},
      {"\0\0"s, 0, false, 0, "", 0},
      {"\0\7"s, 0, false, 0, "", 0},
      {""s, 0, false, 0, "", 0},
  };
  for (const Row& r : rows) {
    std::vector<uint8_t> b = V(r.bytes);
    absl::StatusOr<TftpPacket> p =
        ParseTftp(b, r.wire_length ? r.wire_length : b.size());
    ASSERT_EQ(p.ok(), r.ok) << Printable(r.bytes);
    if (!p.ok()) continue;
    EXPECT_EQ(p->op, r.op);
    EXPECT_EQ(p->filename, r.filename);
    EXPECT_EQ(p->options.size(), r.options) << Printable(r.bytes);
  }
  std::vector<uint8_t> data = V(std::string("\0\3\0\7", 4));
  EXPECT_EQ(ParseTftp(data, 516)->data_size, 512u);  // snapped: real size
  EXPECT_EQ(ParseTftp(data, 516)->block, 7);
  std::vector<uint8_t> err = V(std::string("\0\5\0\1missing", 11));
  EXPECT_EQ(ParseTftp(err, err.size())->error_message, "missing");
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

// Regressions: synthetic variations of a real capture.

capture_test::Frames SeabiosFrames() {
  absl::StatusOr<capture_test::Frames> frames = capture_test::ReadFrames(
      capture_test::SourceDir() +
      "/tests/fixtures/captures/seabios-ipxe-rom.pcap");
  EXPECT_TRUE(frames.ok());
  return frames.ok() ? *frames : capture_test::Frames{};
}

Report Analyze(capture_test::Frames frames) {
  TimelineBuilder b(LinkType::kEthernet, capture_test::GoldenConfig());
  int number = 0;
  for (Frame& f : frames) {
    f.number = ++number;
    b.Add(f);
  }
  return Diagnose(std::move(b).Finish(), capture_test::GoldenConfig());
}

bool HasFinding(const Report& r, const std::string& id) {
  for (const Finding& f : r.segment) {
    if (f.id == id) return true;
  }
  for (const ClientReport& c : r.clients) {
    for (const Finding& f : c.findings) {
      if (f.id == id) return true;
    }
  }
  return false;
}

TEST(Regression, AckToInformIsNotAProxy) {
  using capture_test::Frames;
  Frames in = SeabiosFrames();
  ASSERT_FALSE(in.empty());
  const Frame& ack = in[capture_test::First(in, [](const Frame& f) {
    auto m = capture_test::Dhcp(f);
    return capture_test::CorporateReply()(f) && m->message_type() == wire::kAck;
  })];
  const wire::Ipv4 address = capture_test::Dhcp(ack)->yiaddr;
  const Frame& request =
      in[capture_test::First(in, capture_test::ClientDhcp(wire::kRequest))];
  // Windows asks for WPAD with a DHCPINFORM; the corporate server ACKs it
  // with yiaddr 0.
  Frame inform = capture_test::EditDhcp(
      request, [&](wire::DhcpMessage& m, wire::UdpDatagram& u) {
        m.xid = 0x77665544;
        m.ciaddr = address;
        m.options.SetU8(wire::kOptMessageType, wire::kInform);
        u.src_ip = address;
      });
  Frame answer = capture_test::EditDhcp(
      ack, [&](wire::DhcpMessage& m, wire::UdpDatagram&) {
        m.xid = 0x77665544;
        m.ciaddr = address;
        m.yiaddr = 0;
      });
  Frames out = capture_test::Concat(
      {in, capture_test::Moved({inform, capture_test::Later(answer, 0.001)}, in,
                               0.5)});
  Report with = Analyze(out);
  EXPECT_EQ(with.proxies, Analyze(in).proxies);
  EXPECT_EQ(with.proxies.size(), 1u);
  EXPECT_FALSE(HasFinding(with, "second_proxy"));
  EXPECT_FALSE(HasFinding(with, "two_proxies"));
}

capture_test::Frames Edk2Frames() {
  absl::StatusOr<capture_test::Frames> frames = capture_test::ReadFrames(
      capture_test::SourceDir() +
      "/tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap");
  EXPECT_TRUE(frames.ok());
  return frames.ok() ? *frames : capture_test::Frames{};
}

std::vector<std::string> FindingIds(const Report& r) {
  std::vector<std::string> ids;
  for (const Finding& f : r.segment) ids.push_back(f.id);
  for (const ClientReport& c : r.clients) {
    for (const Finding& f : c.findings) ids.push_back(f.id);
  }
  return ids;
}

// The download of snponly.efi (the second RRQ) and its OACK.
struct Download {
  size_t rrq;
  size_t oack;
};

Download SecondDownload(const capture_test::Frames& in) {
  using capture_test::First;
  using capture_test::TftpOp;
  size_t rrq = First(in, TftpOp(kTftpRrq), First(in, TftpOp(kTftpRrq)) + 1);
  return {rrq, First(in, TftpOp(kTftpOack), rrq)};
}

capture_test::Frames Inserted(const capture_test::Frames& in, size_t after,
                              capture_test::Frames extra) {
  capture_test::Frames out = capture_test::Slice(in, 0, after + 1);
  for (Frame& f : extra) f.time = in[after].time + absl::Microseconds(1);
  out = capture_test::Concat({out, extra});
  return capture_test::Concat(
      {out, capture_test::Slice(in, after + 1, in.size())});
}

TEST(Regression, ClientErrorToAnotherServerPortIsNotTheTransfersError) {
  capture_test::Frames in = Edk2Frames();
  ASSERT_FALSE(in.empty());
  Download d = SecondDownload(in);
  // The server answered a retransmitted RRQ from a second port; the client
  // refuses that one with ERROR 5 and goes on with the first.
  wire::UdpDatagram second = *capture_test::Udp(in[d.oack]);
  second.src_port = static_cast<uint16_t>(second.src_port + 1);
  wire::UdpDatagram refuse;
  refuse.src_mac = second.dst_mac;
  refuse.dst_mac = second.src_mac;
  refuse.src_ip = second.dst_ip;
  refuse.dst_ip = second.src_ip;
  refuse.src_port = second.dst_port;
  refuse.dst_port = second.src_port;
  refuse.payload = capture_test::TftpError(5, "Unknown transfer ID");
  capture_test::Frames out =
      Inserted(in, d.oack,
               {capture_test::WithUdp(in[d.oack], second),
                capture_test::WithUdp(in[d.oack], refuse)});
  Report base = Analyze(in);
  Report with = Analyze(out);
  EXPECT_EQ(FindingIds(with), FindingIds(base));
  ASSERT_EQ(with.clients.size(), 1u);
  EXPECT_EQ(with.clients[0].ok, base.clients[0].ok);
  for (const TftpTransfer& t : with.clients[0].timeline.transfers) {
    if (t.filename == "snponly.efi" && t.rrq.options.size() == 2) {
      EXPECT_TRUE(t.done);
      EXPECT_FALSE(t.error);
    }
  }
}

TEST(Regression, NonTftpToTheClientPortDoesNotTakeTheServerTid) {
  capture_test::Frames in = Edk2Frames();
  ASSERT_FALSE(in.empty());
  Download d = SecondDownload(in);
  // Before the real OACK, a stray datagram from another port reaches the
  // client's port: not TFTP (opcode 9), so it must not become the TID.
  wire::UdpDatagram stray = *capture_test::Udp(in[d.oack]);
  stray.src_port = 40000;
  stray.payload = {0, 9, 1, 2, 3};
  capture_test::Frames out =
      Inserted(in, d.rrq, {capture_test::WithUdp(in[d.oack], stray)});
  Report base = Analyze(in);
  Report with = Analyze(out);
  EXPECT_EQ(FindingIds(with), FindingIds(base));
  ASSERT_EQ(with.clients.size(), 1u);
  EXPECT_EQ(with.clients[0].stage, base.clients[0].stage);
  for (const TftpTransfer& t : with.clients[0].timeline.transfers) {
    EXPECT_NE(t.server_port, 40000);
  }
}

TEST(Regression, RetransmittedRrqAnsweredFromTheSamePortIsOneTransfer) {
  capture_test::Frames in = Edk2Frames();
  ASSERT_FALSE(in.empty());
  Download d = SecondDownload(in);
  // The client repeats its RRQ before the OACK's ACK; pxeproxy resends the
  // OACK from the same port, and the download goes on.
  capture_test::Frames out = Inserted(in, d.oack, {in[d.rrq], in[d.oack]});
  Report base = Analyze(in);
  Report with = Analyze(out);
  EXPECT_EQ(FindingIds(with), FindingIds(base));
  ASSERT_EQ(with.clients.size(), 1u);
  const std::vector<TftpTransfer>& ts = with.clients[0].timeline.transfers;
  ASSERT_EQ(ts.size(), base.clients[0].timeline.transfers.size());
  int rrqs = 0;
  for (const TftpTransfer& t : ts) rrqs += t.rrq_count;
  EXPECT_EQ(rrqs, static_cast<int>(ts.size()) + 1);
}

TEST(Regression, DrainStopsAfterABatch) {
  // A file stands in for a link that always has frames pending.
  absl::StatusOr<std::unique_ptr<PcapSource>> source = PcapSource::OpenFile(
      capture_test::SourceDir() +
      "/tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap");
  ASSERT_TRUE(source.ok());
  TimelineBuilder b((*source)->link(), capture_test::GoldenConfig());
  int seen = 0;
  bool more = false;
  ASSERT_TRUE(Drain(**source, b, &seen, 100, &more).ok());
  EXPECT_EQ(seen, 100);
  EXPECT_TRUE(more);
  ASSERT_TRUE(Drain(**source, b, &seen, 100, &more).ok());
  EXPECT_EQ(seen, 200);
  while (more) ASSERT_TRUE(Drain(**source, b, &seen, 100, &more).ok());
  EXPECT_EQ(seen, b.sofar().frames);
  EXPECT_GT(seen, 200);
}

TEST(Regression, LongDiscoverLoopIsAnalysedInLinearTime) {
  capture_test::Frames in = Edk2Frames();
  ASSERT_FALSE(in.empty());
  using capture_test::First;
  const Frame& discover =
      in[First(in, capture_test::ClientDhcp(wire::kDiscover))];
  const Frame& corporate = in[First(in, [](const Frame& f) {
    return capture_test::CorporateReply()(f) &&
           capture_test::Dhcp(f)->message_type() == wire::kOffer;
  })];
  const Frame& proxy = in[First(in, capture_test::ProxyReply(wire::kOffer))];
  ASSERT_EQ(capture_test::Dhcp(discover)->xid, capture_test::Dhcp(proxy)->xid);
  // EDK2 dropping every proxy offer: 20000 cycles with the same xid.
  constexpr int kCycles = 20000;
  capture_test::Frames loop;
  for (int i = 0; i < kCycles; ++i) {
    for (const Frame* f : {&discover, &corporate, &proxy}) {
      loop.push_back(*f);
      loop.back().time = discover.time + absl::Milliseconds(4 * i) +
                         absl::Microseconds(loop.size() % 3);
    }
  }
  const absl::Time start = absl::Now();
  Report r = Analyze(std::move(loop));
  std::cout << "analysed " << 3 * kCycles << " frames in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  ASSERT_EQ(r.clients.size(), 1u);
  EXPECT_EQ(r.clients[0].stage, Stage::kOffered);
  const Finding* drop = nullptr;
  for (const Finding& f : r.clients[0].findings) {
    if (f.id == "edk2_dropped_proxy_offer") drop = &f;
  }
  ASSERT_NE(drop, nullptr);
  // Every offer but the last, and the DISCOVER after it: the first ones
  // listed, the rest counted (the list is capped, kMaxEvidence).
  EXPECT_EQ(drop->evidence.size() + drop->evidence_more, 2u * (kCycles - 1));
  EXPECT_EQ(drop->evidence.size(), kMaxEvidence);
  EXPECT_EQ(drop->evidence.size(), drop->evidence_numbers.size());
}

// One MAC that shows up with many addresses (a hostile host, a scanner):
// every per-frame lookup must stay logarithmic, and so must the findings.
// The old builder searched the client's address list for each address it
// learnt, walked the client's transfers (newest first) for each IPv4
// fragment and the proxy list for each proxy reply, and CheckCorporate
// walked every later transfer for each corporate reply with a boot file.
// With 80000 addresses, 80000 fragments and 5000 replies (170000 frames)
// that took 32 s, against 2.5 s now. Here the fragments are many more
// (streamed, so they cost no memory): the old fragment walk alone would take
// over two minutes (0.13 ms per fragment over 40000 transfers; far longer
// under ASan, where ctest's timeout stops it), the new code about 2 s.
// No time is asserted: the machine may be shared.
TEST(Regression, OneMacWithManyAddressesIsAnalysedInLinearTime) {
  using capture_test::First;
  using capture_test::Frames;
  Frames in = Edk2Frames();
  ASSERT_FALSE(in.empty());
  const Frame& discover =
      in[First(in, capture_test::ClientDhcp(wire::kDiscover))];
  const Frame& ack = in[First(in, [](const Frame& f) {
    return capture_test::CorporateReply()(f) &&
           capture_test::Dhcp(f)->message_type() == wire::kAck;
  })];
  const Frame& offer = in[First(in, capture_test::ProxyReply(wire::kOffer))];
  const Frame& rrq = in[First(in, capture_test::TftpOp(kTftpRrq))];
  const wire::UdpDatagram rrq_udp = *capture_test::Udp(rrq);
  const wire::Ipv4 tftp_server = rrq_udp.dst_ip;
  constexpr int kAddresses = 40000;  // each with a transfer
  constexpr int kReplies = 5000;     // corporate ACKs, proxy OFFERs
  constexpr int kFragments = 1000000;
  auto address = [](int i) { return 0x0a630001u + static_cast<uint32_t>(i); };
  TimelineBuilder b(LinkType::kEthernet, capture_test::GoldenConfig());
  int number = 0;
  auto add = [&](Frame f) {
    f.number = ++number;
    f.time = discover.time + absl::Microseconds(100 * number);
    b.Add(f);
  };
  const absl::Time start = absl::Now();
  add(capture_test::EditDhcp(
      discover,
      [](wire::DhcpMessage& m, wire::UdpDatagram&) { m.options.Erase(50); }));
  // Addresses acknowledged with a boot file that no transfer asks for: a
  // warning, not followed.
  for (int i = 0; i < kReplies; ++i) {
    add(capture_test::EditDhcp(ack,
                               [&](wire::DhcpMessage& m, wire::UdpDatagram&) {
                                 m.yiaddr = address(i);
                                 m.file = "corporate.efi";
                               }));
  }
  // A transfer from each address (the later ones are learnt from the RRQ
  // and the MAC): the first to the TFTP server, the others to a second one.
  for (int i = 0; i < kAddresses; ++i) {
    wire::UdpDatagram u = rrq_udp;
    u.src_ip = address(i);
    u.dst_ip = i == 0 ? tftp_server : 0x0a630000u;
    add(capture_test::WithUdp(rrq, u));
  }
  // Fragments from the TFTP server to the first address: they belong to
  // its transfer, the oldest of all.
  wire::UdpDatagram big = rrq_udp;
  std::swap(big.src_mac, big.dst_mac);
  big.src_ip = tftp_server;
  big.dst_ip = address(0);
  big.payload.assign(1600, 0);
  const Frames pieces = capture_test::Fragmented(rrq, big, 1);
  ASSERT_EQ(pieces.size(), 2u);
  for (int i = 0; i < kFragments; ++i) add(pieces[1]);
  // Proxy offers from many server addresses.
  for (int i = 0; i < kReplies; ++i) {
    add(capture_test::EditDhcp(
        offer, [&](wire::DhcpMessage& m, wire::UdpDatagram& u) {
          m.options.SetIpv4(wire::kOptServerId, 0x0a640001u + i);
          u.src_ip = 0x0a640001u + i;
        }));
  }
  Report r = Diagnose(std::move(b).Finish(), capture_test::GoldenConfig());
  std::cout << "analysed " << number << " frames in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  ASSERT_EQ(r.clients.size(), 1u);
  const ClientTimeline& c = r.clients[0].timeline;
  ASSERT_EQ(c.ips.size(), static_cast<size_t>(kAddresses));
  for (int i = 0; i < kAddresses; ++i) ASSERT_EQ(c.ips[i], address(i)) << i;
  ASSERT_EQ(c.transfers.size(), static_cast<size_t>(kAddresses));
  EXPECT_EQ(c.transfers[0].fragments, kFragments);
  for (size_t i = 1; i < c.transfers.size(); ++i) {
    ASSERT_EQ(c.transfers[i].fragments, 0) << i;
  }
  ASSERT_EQ(r.proxies.size(), static_cast<size_t>(kReplies));
  for (int i = 0; i < kReplies; ++i) {
    ASSERT_EQ(r.proxies[i], 0x0a640001u + i) << i;
  }
  const Finding* boot_info = nullptr;
  for (const Finding& f : r.clients[0].findings) {
    if (f.id == "corporate_boot_info") boot_info = &f;
  }
  ASSERT_NE(boot_info, nullptr);
  EXPECT_EQ(boot_info->severity, Severity::kWarning);
  EXPECT_EQ(boot_info->evidence.size() + boot_info->evidence_more,
            static_cast<size_t>(kReplies));
  EXPECT_TRUE(HasFinding(r, "second_proxy"));
}

}  // namespace
}  // namespace capture
