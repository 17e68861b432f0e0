#include "gtest/gtest.h"
#include "wire/addr.h"
#include "wire/byte_reader.h"
#include "wire/log_limiter.h"
#include "wire/udp_frame.h"

namespace wire {
namespace {

TEST(ByteReader, FailureIsSticky) {
  const uint8_t data[] = {1, 2, 3};
  ByteReader r(data);
  uint16_t v;
  uint32_t w;
  EXPECT_TRUE(r.ReadU16(&v));
  EXPECT_EQ(v, 0x0102);
  EXPECT_FALSE(r.ReadU32(&w));
  uint8_t b;
  EXPECT_FALSE(r.ReadU8(&b));  // one byte is left, but the reader failed
  EXPECT_FALSE(r.ok());
}

TEST(ByteReader, HugeLengthDoesNotWrap) {
  const uint8_t data[] = {1, 2, 3};
  ByteReader r(data);
  absl::Span<const uint8_t> out;
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX, &out));
}

TEST(Addr, Ipv4RoundTrip) {
  EXPECT_EQ(FormatIpv4(0x0a000001), "10.0.0.1");
  EXPECT_EQ(ParseIpv4("10.0.0.1"), 0x0a000001u);
  EXPECT_EQ(ParseIpv4("255.255.255.255"), 0xffffffffu);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d",
                          "1..2.3", "1.2.3.-4", "01234.1.1.1"}) {
    EXPECT_FALSE(ParseIpv4(bad).has_value()) << bad;
  }
}

TEST(Addr, MacPrefix) {
  size_t len = 0;
  auto mac = ParseMacPrefix("52:54:00", &len);
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(len, 3u);
  EXPECT_EQ((*mac)[0], 0x52);
  EXPECT_EQ(FormatMac(*ParseMacPrefix("aa-BB-cc-00-11-22", &len)),
            "aa:bb:cc:00:11:22");
  EXPECT_FALSE(ParseMacPrefix("52:54:00:00:00:00:01", &len).has_value());
  EXPECT_FALSE(ParseMacPrefix("5g", &len).has_value());
  EXPECT_FALSE(ParseMacPrefix("525", &len).has_value());
  EXPECT_FALSE(ParseMacPrefix("52::00", &len).has_value());
}

TEST(UdpFrame, BuildParseRoundTripWithValidChecksums) {
  UdpDatagram d;
  d.src_mac = {2, 0, 0, 0, 0, 1};
  d.dst_mac = kMacBroadcast;
  d.src_ip = 0x0a000001;
  d.dst_ip = kIpv4Broadcast;
  d.src_port = 67;
  d.dst_port = 68;
  d.payload = {1, 2, 3, 4, 5};
  std::vector<uint8_t> frame = BuildEthernetUdp(d);
  ASSERT_EQ(frame.size(), 14u + 20 + 8 + 5);
  EXPECT_TRUE(VerifyIpv4UdpChecksums(absl::MakeSpan(frame).subspan(14)));
  EXPECT_EQ(frame[14 + 6] & 0x40, 0) << "DF must not be set";
  auto back = ParseEthernetUdp(frame);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->src_ip, d.src_ip);
  EXPECT_EQ(back->dst_port, 68);
  EXPECT_EQ(back->payload, d.payload);
  EXPECT_EQ(back->src_mac, d.src_mac);
  frame[14 + 28] ^= 0xff;  // corrupt the payload
  EXPECT_FALSE(VerifyIpv4UdpChecksums(absl::MakeSpan(frame).subspan(14)));
}

TEST(UdpFrame, RejectsTruncationAndOtherProtocols) {
  UdpDatagram d;
  d.payload.assign(100, 7);
  std::vector<uint8_t> frame = BuildEthernetUdp(d);
  for (size_t n = 0; n < 14 + 28; ++n) {
    EXPECT_FALSE(ParseEthernetUdp(absl::MakeSpan(frame).first(n)).ok()) << n;
  }
  std::vector<uint8_t> tcp = frame;
  tcp[14 + 9] = 6;
  EXPECT_FALSE(ParseEthernetUdp(tcp).ok());
  std::vector<uint8_t> frag = frame;
  frag[14 + 6] = 0x20;  // more fragments
  EXPECT_FALSE(ParseEthernetUdp(frag).ok());
  std::vector<uint8_t> arp = frame;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(ParseEthernetUdp(arp).ok());
  std::vector<uint8_t> long_udp = frame;
  long_udp[14 + 24] = 0xff;  // UDP length beyond the IP packet
  EXPECT_FALSE(ParseEthernetUdp(long_udp).ok());
}

TEST(UdpFrame, SkipsOneVlanTag) {
  UdpDatagram d;
  d.dst_port = 67;
  std::vector<uint8_t> frame = BuildEthernetUdp(d);
  std::vector<uint8_t> tagged(frame.begin(), frame.begin() + 12);
  tagged.insert(tagged.end(), {0x81, 0x00, 0x00, 0x05});
  tagged.insert(tagged.end(), frame.begin() + 12, frame.end());
  auto back = ParseEthernetUdp(tagged);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dst_port, 67);
}

}  // namespace
}  // namespace wire

TEST(LogLimiter, OneLinePerIntervalThenTheSuppressedCount) {
  wire::LogLimiter l(std::chrono::seconds(10));
  const auto t0 = wire::LogLimiter::Clock::time_point{};
  ASSERT_TRUE(l.Admit("bad_source", t0).has_value());
  EXPECT_FALSE(l.Admit("bad_source", t0 + std::chrono::seconds(1)));
  EXPECT_FALSE(l.Admit("bad_source", t0 + std::chrono::seconds(9)));
  // Another key has its own budget.
  EXPECT_EQ(l.Admit("reverse_path", t0 + std::chrono::seconds(9)), 0u);
  EXPECT_EQ(l.Admit("bad_source", t0 + std::chrono::seconds(10)), 2u);
  EXPECT_EQ(l.TakeSuppressed("bad_source"), 0u);
}

TEST(LogLimiter, BurstLinesPerIntervalAndTakeSuppressed) {
  // The per-reply lines: the first 3 in a second, then a count.
  wire::LogLimiter l(std::chrono::seconds(1), 3);
  const auto t0 = wire::LogLimiter::Clock::time_point{};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(l.Admit("reply", t0), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(l.Admit("reply", t0));
  EXPECT_EQ(l.TakeSuppressed("reply"), 1000u);
  EXPECT_EQ(l.TakeSuppressed("reply"), 0u);
  EXPECT_FALSE(l.Admit("reply", t0 + std::chrono::milliseconds(999)));
  EXPECT_EQ(l.Admit("reply", t0 + std::chrono::seconds(1)), 1u);
  EXPECT_EQ(l.TakeSuppressed("unknown"), 0u);
}
