// TFTP packet codec (wire/tftp_packet.h), option negotiation and the
// embedded menu.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tftp/embedded_menu.h"
#include "tftp/options.h"
#include "tftp/path.h"
#include "tftp/session.h"
#include "wire/tftp_packet.h"

namespace tftp {
namespace {

// A string literal with its embedded NULs, without the terminating one.
template <size_t N>
std::string S(const char (&lit)[N]) {
  return std::string(lit, N - 1);
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

using Options = std::vector<std::pair<std::string, std::string>>;

TEST(Packet, ParsesRrqWithOptions) {
  auto req = wire::ParseTftpRequest(
      Bytes(S("\0\1undionly.kpxe\0OCTET\0BLKSIZE\0001468\0tsize\0000\0")));
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->opcode, wire::TftpOpcode::kRrq);
  EXPECT_EQ(req->filename, "undionly.kpxe");
  EXPECT_EQ(req->mode, "octet");
  EXPECT_EQ(req->options, (Options{{"blksize", "1468"}, {"tsize", "0"}}));
}

TEST(Packet, ToleratesTrailingNulPadding) {
  auto req = wire::ParseTftpRequest(Bytes(S("\0\1a\0octet\0\0\0\0")));
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(req->options.empty());
}

TEST(Packet, RejectsMalformedRequests) {
  const std::vector<std::string> bad = {
      S(""),
      S("\0"),
      S("\0\1"),
      S("\0\1file"),                    // no NUL
      S("\0\1file\0octet"),             // mode not ended
      S("\0\1file\0octet\0blksize\0"),  // option without value
      S("\0\1file\0octet\0blksize\0"
        "512"),                // value not ended
      S("\0\3file\0octet\0"),  // a DATA opcode
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(wire::ParseTftpRequest(Bytes(b)).ok()) << b.size();
  }
}

TEST(Packet, Opcodes) {
  EXPECT_FALSE(wire::PeekTftpOpcode(Bytes(S("\0"))).ok());
  EXPECT_FALSE(wire::PeekTftpOpcode(Bytes(S("\0\0"))).ok());
  EXPECT_FALSE(wire::PeekTftpOpcode(Bytes(S("\0\7"))).ok());
  EXPECT_EQ(*wire::PeekTftpOpcode(Bytes(S("\0\2"))), wire::TftpOpcode::kWrq);
}

TEST(Packet, AckAndError) {
  EXPECT_EQ(wire::ParseTftpAck(wire::BuildTftpAck(65535))->block, 65535);
  EXPECT_FALSE(wire::ParseTftpAck(Bytes(S("\0\4\0"))).ok());
  auto e = wire::ParseTftpError(
      wire::BuildTftpError(wire::TftpErrorCode::kBadOptions, "blksize: no"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, 8);
  EXPECT_EQ(e->message, "blksize: no");
  // A message without its NUL is taken whole.
  EXPECT_EQ(wire::ParseTftpError(Bytes(S("\0\5\0\1abc")))->message, "abc");
}

TEST(Packet, BuildsWireBytes) {
  EXPECT_EQ(wire::BuildTftpError(wire::TftpErrorCode::kNotFound, "x"),
            Bytes(S("\0\5\0\1x\0")));
  EXPECT_EQ(wire::BuildTftpOack({{"blksize", "1468"}}), Bytes(S("\0\6blksize\0"
                                                                "1468\0")));
  EXPECT_EQ(wire::BuildTftpData(0x1234, Bytes("ab")), Bytes(S("\0\3\x12\x34"
                                                              "ab")));
}

TEST(Packet, Modes) {
  wire::TftpMode m;
  EXPECT_TRUE(wire::ParseTftpMode("NetASCII", &m));
  EXPECT_EQ(m, wire::TftpMode::kNetascii);
  EXPECT_TRUE(wire::ParseTftpMode("octet", &m));
  EXPECT_EQ(m, wire::TftpMode::kOctet);
  EXPECT_FALSE(wire::ParseTftpMode("mail", &m));
  EXPECT_FALSE(wire::ParseTftpMode("", &m));
}

TEST(Packet, ParseTftpPacketTable) {
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
    std::vector<uint8_t> b = Bytes(r.bytes);
    absl::StatusOr<wire::TftpPacket> p =
        wire::ParseTftpPacket(b, r.wire_length ? r.wire_length : b.size());
    ASSERT_EQ(p.ok(), r.ok) << absl::CHexEscape(r.bytes);
    if (!p.ok()) continue;
    EXPECT_EQ(static_cast<uint16_t>(p->op), r.op);
    EXPECT_EQ(p->filename, r.filename);
    EXPECT_EQ(p->options.size(), r.options) << absl::CHexEscape(r.bytes);
  }
  std::vector<uint8_t> data = Bytes(std::string("\0\3\0\7", 4));
  EXPECT_EQ(wire::ParseTftpPacket(data, 516)->data_size,
            512u);  // snapped: real size
  EXPECT_EQ(wire::ParseTftpPacket(data, 516)->block, 7);
  std::vector<uint8_t> err = Bytes(std::string("\0\5\0\1missing", 11));
  EXPECT_EQ(wire::ParseTftpPacket(err, err.size())->error_message, "missing");
}

TEST(Packet, Netascii) {
  EXPECT_EQ(wire::ToNetascii("a\nb\rc"), S("a\r\nb\r\0c"));
}

struct NegCase {
  std::string name;
  Options in;
  uint64_t size;
  bool ok;
  Options oack;
  int blksize = 512;
  int windowsize = 1;
  int timeout_ms = 1000;
};

class Negotiation : public testing::TestWithParam<NegCase> {};

TEST_P(Negotiation, Table) {
  const NegCase& c = GetParam();
  NegotiationLimits limits{1468, 64, 1000};
  absl::StatusOr<Negotiated> n = Negotiate(c.in, c.size, limits);
  ASSERT_EQ(n.ok(), c.ok) << n.status();
  if (!c.ok) return;
  EXPECT_EQ(n->oack, c.oack);
  EXPECT_EQ(n->blksize, c.blksize);
  EXPECT_EQ(n->windowsize, c.windowsize);
  EXPECT_EQ(n->timeout_ms, c.timeout_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Tftp, Negotiation,
    testing::Values(
        NegCase{"none", {}, 10, true, {}},
        NegCase{"unknown_only_no_oack", {{"multicast", ""}}, 10, true, {}},
        NegCase{"blksize",
                {{"blksize", "1024"}},
                10,
                true,
                {{"blksize", "1024"}},
                1024},
        NegCase{"blksize_lowered_to_mtu",
                {{"blksize", "65464"}},
                10,
                true,
                {{"blksize", "1468"}},
                1468},
        NegCase{"blksize_above_rfc_lowered",
                {{"blksize", "99999"}},
                10,
                true,
                {{"blksize", "1468"}},
                1468},
        NegCase{"blksize_minimum",
                {{"blksize", "8"}},
                10,
                true,
                {{"blksize", "8"}},
                8},
        NegCase{"blksize_too_small", {{"blksize", "7"}}, 10, false, {}},
        NegCase{"blksize_zero", {{"blksize", "0"}}, 10, false, {}},
        NegCase{"blksize_garbage", {{"blksize", "12x"}}, 10, false, {}},
        NegCase{"blksize_signed", {{"blksize", "+512"}}, 10, false, {}},
        NegCase{"blksize_empty", {{"blksize", ""}}, 10, false, {}},
        NegCase{"blksize_huge_digits",
                {{"blksize", "99999999999999999999"}},
                10,
                false,
                {}},
        NegCase{"tsize_real_size",
                {{"tsize", "0"}},
                12345,
                true,
                {{"tsize", "12345"}}},
        NegCase{"tsize_empty_file_omitted", {{"tsize", "0"}}, 0, true, {}},
        NegCase{"timeout",
                {{"timeout", "3"}},
                1,
                true,
                {{"timeout", "3"}},
                512,
                1,
                3000},
        NegCase{"timeout_zero_ignored", {{"timeout", "0"}}, 1, true, {}},
        NegCase{"timeout_256_ignored", {{"timeout", "256"}}, 1, true, {}},
        NegCase{"windowsize",
                {{"windowsize", "8"}},
                1,
                true,
                {{"windowsize", "8"}},
                512,
                8},
        NegCase{"windowsize_capped",
                {{"windowsize", "65535"}},
                1,
                true,
                {{"windowsize", "64"}},
                512,
                64},
        NegCase{"windowsize_zero", {{"windowsize", "0"}}, 1, false, {}},
        NegCase{"repeat_ignored",
                {{"blksize", "1024"}, {"blksize", "7"}},
                1,
                true,
                {{"blksize", "1024"}},
                1024},
        NegCase{"order_kept",
                {{"tsize", "0"},
                 {"foo", "1"},
                 {"blksize", "1468"},
                 {"windowsize", "4"}},
                9,
                true,
                {{"tsize", "9"}, {"blksize", "1468"}, {"windowsize", "4"}},
                1468,
                4}),
    [](const testing::TestParamInfo<NegCase>& i) { return i.param.name; });

TEST(EmbeddedMenu, IsAnIpxeMenu) {
  std::string m = EmbeddedMenu("9.9");
  EXPECT_TRUE(absl::StartsWith(m, "#!ipxe\n"));
  for (const char* want :
       {"menu ", "choose ", "sanboot --no-describe --drive 0x80", "shell",
        "${net0/mac}", "${ip}", "${buildarch}", "${platform}", "--menu_url",
        "9.9"}) {
    EXPECT_TRUE(absl::StrContains(m, want)) << want;
  }
  EXPECT_FALSE(absl::StrContains(m, "@VERSION@"));
  // Every `goto` names a label that exists.
  for (const char* label :
       {":start", ":local", ":shell", ":details", ":reboot"}) {
    EXPECT_TRUE(absl::StrContains(m, std::string("\n") + label + "\n"))
        << label;
  }
}

// Random bytes through every parser: an error or a value, never a crash
// (run under ASan/UBSan by scripts/test). Fixed seed: reproducible.
TEST(Robustness, RandomPacketsThroughParsers) {
  std::mt19937 rng(1350);
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> b(rng() % 80);
    for (uint8_t& x : b) x = rng() % 4 == 0 ? 0 : rng();
    if (b.size() >= 2 && rng() % 2) b[0] = 0, b[1] = 1 + rng() % 6;
    (void)wire::PeekTftpOpcode(b);
    (void)wire::ParseTftpAck(b);
    (void)wire::ParseTftpError(b);
    absl::StatusOr<wire::TftpRequest> req = wire::ParseTftpRequest(b);
    if (req.ok()) {
      (void)NormalizeName(req->filename);
      (void)Negotiate(req->options, rng(), NegotiationLimits{});
    }
  }
}

// Random ACKs and timeouts against a session: whatever arrives, it never
// sends a block outside 1..last_block, acked only grows, and it ends.
TEST(Robustness, RandomAcksKeepSessionInvariants) {
  std::mt19937 rng(7440);
  for (int run = 0; run < 2000; ++run) {
    SessionParams p{rng() % 200000, 8 + static_cast<int>(rng() % 1500),
                    1 + static_cast<int>(rng() % 70), rng() % 2 == 0, 3};
    Session s(p);
    Action a = s.Start();
    uint64_t acked = 0;
    for (int step = 0; step < 500 && !s.finished(); ++step) {
      if (a.kind == Action::Kind::kSendData) {
        ASSERT_GE(a.first, 1u);
        ASSERT_LE(a.first, a.last);
        ASSERT_LE(a.last, s.last_block());
      }
      uint16_t block =
          rng() % 3 == 0 ? rng() : Session::WireBlock(s.acked() + rng() % 8);
      a = rng() % 10 == 0 ? s.OnTimeout() : s.OnAck(block);
      ASSERT_GE(s.acked(), acked);
      acked = s.acked();
    }
  }
}

}  // namespace
}  // namespace tftp
