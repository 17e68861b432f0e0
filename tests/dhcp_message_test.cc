#include "wire/dhcp_message.h"

#include "gtest/gtest.h"
#include "proxydhcp/pxe.h"
#include "wire/pxe_options.h"

namespace wire {
namespace {

std::vector<uint8_t> Header(uint8_t op = kBootRequest) {
  std::vector<uint8_t> b(kFixedHeaderSize, 0);
  b[0] = op;
  b[1] = 1;
  b[2] = 6;
  b[4] = 0x12;
  b[5] = 0x34;
  b[6] = 0x56;
  b[7] = 0x78;
  for (int i = 0; i < 6; ++i) b[28 + i] = 0x10 + i;
  b.insert(b.end(), {99, 130, 83, 99});
  return b;
}

TEST(DhcpMessage, ParsesFixedFieldsAndOptions) {
  auto b = Header();
  b.insert(b.end(), {53, 1, 1, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n',
                     't', 93, 2, 0, 7, 255});
  auto m = ParseDhcp(b);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->xid, 0x12345678u);
  EXPECT_EQ(m->message_type(), kDiscover);
  EXPECT_EQ(m->options.GetString(kOptVendorClass), "PXEClient");
  EXPECT_EQ(m->options.GetU16(kOptClientArch), 7);
  EXPECT_EQ(wire::FormatMac(m->mac()), "10:11:12:13:14:15");
}

TEST(DhcpMessage, TypedGettersDemandExactLength) {
  auto b = Header();
  b.insert(b.end(), {93, 3, 0, 7, 0, 53, 2, 1, 1, 54, 3, 1, 2, 3, 255});
  auto m = ParseDhcp(b);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->options.GetU16(kOptClientArch).has_value());
  EXPECT_FALSE(m->message_type().has_value());
  EXPECT_FALSE(m->options.GetIpv4(kOptServerId).has_value());
  EXPECT_TRUE(m->options.Has(kOptServerId));
}

TEST(DhcpMessage, ConcatenatesRepeatedOptions) {  // RFC 3396
  auto b = Header();
  b.insert(b.end(), {60, 3, 'P', 'X', 'E', 53, 1, 1, 60, 6, 'C', 'l', 'i', 'e',
                     'n', 't', 255});
  auto m = ParseDhcp(b);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->options.GetString(kOptVendorClass), "PXEClient");
}

TEST(DhcpMessage, OverloadReadsFileThenSname) {  // RFC 2131 4.1, option 52
  auto b = Header();
  // file (offset 108) carries option 60 part 1; sname (44) carries part 2.
  const uint8_t in_file[] = {60, 3, 'P', 'X', 'E', 255};
  const uint8_t in_sname[] = {60, 6, 'C', 'l', 'i', 'e', 'n', 't', 255};
  std::copy(std::begin(in_file), std::end(in_file), b.begin() + 108);
  std::copy(std::begin(in_sname), std::end(in_sname), b.begin() + 44);
  b.insert(b.end(), {53, 1, 1, 52, 1, 3, 255});
  auto m = ParseDhcp(b);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->options.GetString(kOptVendorClass), "PXEClient");
  EXPECT_EQ(m->file, "");
  EXPECT_EQ(m->sname, "");
}

TEST(DhcpMessage, UnterminatedFileIsTakenWhole) {
  auto b = Header();
  std::fill(b.begin() + 108, b.begin() + 236, 'a');
  b.push_back(255);
  auto m = ParseDhcp(b);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->file.size(), 128u);
}

TEST(DhcpMessage, MissingEndIsAccepted) {
  auto b = Header();
  b.insert(b.end(), {53, 1, 1});
  EXPECT_TRUE(ParseDhcp(b).ok());
}

TEST(DhcpMessage, RejectsFramingErrorsWithNamedOption) {
  auto b = Header();
  b.insert(b.end(), {53, 1, 1, 60, 40, 'P'});
  auto m = ParseDhcp(b);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("option 60"), std::string::npos)
      << m.status();
  auto no_len = Header();
  no_len.push_back(60);
  EXPECT_FALSE(ParseDhcp(no_len).ok());
  auto no_cookie = Header();
  no_cookie[236] = 0;
  EXPECT_FALSE(ParseDhcp(no_cookie).ok());
  auto bad_op = Header(3);
  EXPECT_FALSE(ParseDhcp(bad_op).ok());
  auto bad_hlen = Header();
  bad_hlen[2] = 17;
  EXPECT_FALSE(ParseDhcp(bad_hlen).ok());
  auto bad_overload = Header();
  bad_overload.insert(bad_overload.end(), {52, 1, 4, 255});
  EXPECT_FALSE(ParseDhcp(bad_overload).ok());
  for (size_t n = 0; n < kFixedHeaderSize + 4; ++n) {
    EXPECT_FALSE(ParseDhcp(absl::MakeSpan(b).first(n)).ok()) << n;
  }
}

TEST(DhcpMessage, SerializeIsDeterministicAndPadded) {
  DhcpMessage m;
  m.op = kBootReply;
  m.xid = 1;
  m.options.SetString(kOptVendorClass, "PXEClient");
  m.options.SetIpv4(kOptServerId, 0x0a000001);
  m.options.SetU8(kOptMessageType, kOffer);
  auto out = SerializeDhcp(m);
  EXPECT_GE(out.size(), kMinMessageSize);
  // 53 first, then 54, 60 ascending, then 255.
  size_t at = kFixedHeaderSize + 4;
  EXPECT_EQ(out[at], 53);
  EXPECT_EQ(out[at + 3], 54);
  EXPECT_EQ(out[at + 9], 60);
  EXPECT_EQ(out[at + 20], 255);
  auto back = ParseDhcp(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->options.all(), m.options.all());
}

TEST(DhcpMessage, SerializeSplitsLongOptionsAndTerminatesFields) {
  DhcpMessage m;
  m.options.SetU8(kOptMessageType, kOffer);
  m.options.SetString(kOptBootfileName, std::string(300, 'x'));
  m.file = std::string(200, 'f');
  m.sname = std::string(80, 's');
  auto out = SerializeDhcp(m);
  EXPECT_EQ(out[44 + 63], 0) << "sname must stay NUL-terminated";
  EXPECT_EQ(out[108 + 127], 0) << "file must stay NUL-terminated";
  auto back = ParseDhcp(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->options.GetString(kOptBootfileName)->size(), 300u);
  EXPECT_EQ(back->file.size(), 127u);
}

TEST(Pxe, UserClassEncodings) {
  const uint8_t raw[] = {'i', 'P', 'X', 'E'};
  EXPECT_EQ(UserClasses(raw), std::vector<std::string>{"iPXE"});
  const uint8_t rfc3004[] = {4, 'i', 'P', 'X', 'E', 2, 'a', 'b'};
  EXPECT_EQ(UserClasses(rfc3004), (std::vector<std::string>{"iPXE", "ab"}));
  const uint8_t bad3004[] = {9, 'i', 'P'};
  EXPECT_EQ(UserClasses(bad3004).size(), 1u);
}

TEST(Pxe, SubOptions) {
  const uint8_t ok[] = {6, 1, 8, 0, 71, 4, 0x80, 0, 0, 0, 255, 9};
  auto s = ParseSubOptions(ok);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->at(6), std::vector<uint8_t>{8});
  EXPECT_EQ(s->at(71).size(), 4u);
  EXPECT_FALSE(s->count(9));
  const uint8_t overrun[] = {6, 5, 8};
  EXPECT_FALSE(ParseSubOptions(overrun).has_value());
}

TEST(Pxe, ArchClasses) {
  EXPECT_EQ(proxydhcp::BootArchOf(0), proxydhcp::BootArch::kBios);
  EXPECT_EQ(proxydhcp::BootArchOf(7), proxydhcp::BootArch::kEfiX64);
  EXPECT_EQ(proxydhcp::BootArchOf(9), proxydhcp::BootArch::kEfiX64);
  EXPECT_EQ(proxydhcp::BootArchOf(6), proxydhcp::BootArch::kEfiIa32);
  EXPECT_EQ(proxydhcp::BootArchOf(11), proxydhcp::BootArch::kEfiArm64);
  EXPECT_EQ(proxydhcp::BootArchOf(10), proxydhcp::BootArch::kUnsupported);
  EXPECT_EQ(proxydhcp::BootArchOf(27), proxydhcp::BootArch::kUnsupported);
}

}  // namespace
}  // namespace wire
