// Regressions of the diagnose mode: synthetic variations of real captures,
// each once a wrong finding or a slow analysis.
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
  size_t rrq = First(in, TftpOp(wire::TftpOpcode::kRrq),
                     First(in, TftpOp(wire::TftpOpcode::kRrq)) + 1);
  return {rrq, First(in, TftpOp(wire::TftpOpcode::kOack), rrq)};
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
  const Frame& rrq =
      in[First(in, capture_test::TftpOp(wire::TftpOpcode::kRrq))];
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
