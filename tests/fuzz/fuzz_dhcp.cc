// wire::ParseDhcp and SerializeDhcp. Properties: a message that parses
// serializes into bytes that parse again to the same header fields and the
// same options map; sname and file come back as they were, cut to 63 and 127
// bytes (serialization keeps them NUL-terminated); a second round trip
// changes nothing; the serialized form is at least the BOOTP minimum of 300
// bytes. The typed option getters run on every option.
#include <cstdint>

#include "fuzz_util.h"
#include "proxydhcp/pxe.h"
#include "wire/dhcp_message.h"

namespace {

using wire::DhcpMessage;

void CheckSame(const DhcpMessage& a, const DhcpMessage& b) {
  FUZZ_CHECK(a.op == b.op);
  FUZZ_CHECK(a.htype == b.htype);
  FUZZ_CHECK(a.hlen == b.hlen);
  FUZZ_CHECK(a.hops == b.hops);
  FUZZ_CHECK(a.xid == b.xid);
  FUZZ_CHECK(a.secs == b.secs);
  FUZZ_CHECK(a.flags == b.flags);
  FUZZ_CHECK(a.ciaddr == b.ciaddr);
  FUZZ_CHECK(a.yiaddr == b.yiaddr);
  FUZZ_CHECK(a.siaddr == b.siaddr);
  FUZZ_CHECK(a.giaddr == b.giaddr);
  FUZZ_CHECK(a.chaddr == b.chaddr);
  FUZZ_CHECK(a.options.all() == b.options.all());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<DhcpMessage> m1 = wire::ParseDhcp({data, size});
  if (!m1.ok()) return 0;
  for (const auto& [code, value] : m1->options.all()) {
    FUZZ_CHECK(code != wire::kOptPad && code != wire::kOptEnd);
    m1->options.GetU8(code);
    m1->options.GetU16(code);
    m1->options.GetU32(code);
    m1->options.GetString(code);
  }
  m1->message_type();
  m1->mac();
  proxydhcp::Classify(*m1, proxydhcp::ClassifyConfig{});
  if (auto v = m1->options.Get(wire::kOptVendorSpecific)) {
    wire::ParseSubOptions(*v);
  }
  if (auto v = m1->options.Get(wire::kOptIpxeEncap)) {
    wire::ParseSubOptions(*v);
  }

  std::vector<uint8_t> bytes = wire::SerializeDhcp(*m1);
  FUZZ_CHECK(bytes.size() >= wire::kMinMessageSize);
  absl::StatusOr<DhcpMessage> m2 = wire::ParseDhcp(bytes);
  FUZZ_CHECK(m2.ok());
  CheckSame(*m1, *m2);
  FUZZ_CHECK(m2->sname == m1->sname.substr(0, 63));
  FUZZ_CHECK(m2->file == m1->file.substr(0, 127));

  std::vector<uint8_t> again = wire::SerializeDhcp(*m2);
  FUZZ_CHECK(again == bytes);
  return 0;
}
