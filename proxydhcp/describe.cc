#include "proxydhcp/describe.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "proxydhcp/pxe.h"

namespace proxydhcp {
namespace {

std::string Hex(absl::Span<const uint8_t> v) {
  std::string out;
  for (uint8_t b : v) absl::StrAppendFormat(&out, "%02x", b);
  return out;
}

bool Printable(absl::Span<const uint8_t> v) {
  for (uint8_t b : v) {
    if (b < 0x20 || b > 0x7e) return false;
  }
  return !v.empty();
}

// "text", or "text\0" when NUL-terminated; hex for anything else.
std::string Quoted(absl::Span<const uint8_t> v) {
  const bool nul = !v.empty() && v.back() == 0;
  if (nul) v.remove_suffix(1);
  if (!Printable(v)) return absl::StrCat("0x", Hex(v), nul ? "00" : "");
  return absl::StrCat("\"", std::string(v.begin(), v.end()), nul ? "\\0" : "",
                      "\"");
}

std::string Ips(absl::Span<const uint8_t> v) {
  if (v.empty() || v.size() % 4 != 0) return absl::StrCat("0x", Hex(v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); i += 4) {
    out.push_back(wire::FormatIpv4(v[i] << 24 | v[i + 1] << 16 | v[i + 2] << 8 |
                                   v[i + 3]));
  }
  return absl::StrJoin(out, ",");
}

std::string SubOptions(absl::Span<const uint8_t> v) {
  auto subs = wire::ParseSubOptions(v);
  if (!subs) return absl::StrCat("malformed 0x", Hex(v));
  std::vector<std::string> out;
  for (const auto& [code, value] : *subs) {
    out.push_back(absl::StrCat(code, ":", Hex(value)));
  }
  return absl::StrCat("[", absl::StrJoin(out, " "), "]");
}

std::string U16List(absl::Span<const uint8_t> v) {
  if (v.empty() || v.size() % 2 != 0) return absl::StrCat("0x", Hex(v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); i += 2) {
    uint16_t a = static_cast<uint16_t>(v[i] << 8 | v[i + 1]);
    out.push_back(absl::StrCat(a, "(", ArchName(a), ")"));
  }
  return absl::StrJoin(out, ",");
}

}  // namespace

std::string DescribeOption(uint8_t code, absl::Span<const uint8_t> v) {
  switch (code) {
    case wire::kOptMessageType:
      return v.size() == 1 ? wire::MessageTypeName(v[0])
                           : absl::StrCat("0x", Hex(v));
    case wire::kOptSubnetMask:
    case wire::kOptRouter:
    case wire::kOptDns:
    case wire::kOptServerId:
    case 50:  // requested address
      return Ips(v);
    case wire::kOptVendorClass:
    case wire::kOptTftpServerName:
    case wire::kOptBootfileName:
    case 12:  // host name
      return Quoted(v);
    case wire::kOptUserClass: {
      std::vector<std::string> classes;
      for (const std::string& c : wire::UserClasses(v)) {
        classes.push_back(Quoted(absl::MakeConstSpan(
            reinterpret_cast<const uint8_t*>(c.data()), c.size())));
      }
      return absl::StrJoin(classes, ",");
    }
    case wire::kOptClientArch:
      return U16List(v);
    case wire::kOptVendorSpecific:
    case wire::kOptIpxeEncap:
      return SubOptions(v);
    case wire::kOptParameterList: {
      std::vector<int> codes(v.begin(), v.end());
      return absl::StrJoin(codes, ",");
    }
    case wire::kOptMaxMessageSize:
      return v.size() == 2 ? absl::StrCat(v[0] << 8 | v[1])
                           : absl::StrCat("0x", Hex(v));
  }
  return absl::StrCat("0x", Hex(v));
}

std::string DescribeMessage(const wire::DhcpMessage& m) {
  std::string out = absl::StrFormat(
      "op=%s xid=0x%08x htype=%d hlen=%d hops=%d secs=%d flags=0x%04x\n",
      m.op == wire::kBootRequest ? "BOOTREQUEST" : "BOOTREPLY", m.xid, m.htype,
      m.hlen, m.hops, m.secs, m.flags);
  absl::StrAppend(&out, "ciaddr=", wire::FormatIpv4(m.ciaddr),
                  " yiaddr=", wire::FormatIpv4(m.yiaddr),
                  " siaddr=", wire::FormatIpv4(m.siaddr),
                  " giaddr=", wire::FormatIpv4(m.giaddr), "\n");
  absl::StrAppend(&out, "chaddr=", wire::FormatMac(m.mac()), " sname=\"",
                  absl::CHexEscape(m.sname), "\" file=\"",
                  absl::CHexEscape(m.file), "\"\n");
  for (const auto& [code, value] : m.options.all()) {
    absl::StrAppend(&out, "  opt ", code, " = ", DescribeOption(code, value),
                    "\n");
  }
  return out;
}

std::string DescribeDecision(const Decision& d) {
  if (const auto* ig = std::get_if<Ignore>(&d)) {
    return absl::StrCat("ignore ", IgnoreReasonName(ig->reason), "\n");
  }
  const Reply& r = std::get<Reply>(d);
  std::string out = absl::StrCat(
      "reply ", wire::MessageTypeName(r.message.message_type().value_or(0)),
      " ", r.broadcast ? "broadcast" : "unicast", " ",
      wire::FormatIpv4(r.src_ip), ":", r.src_port, " -> ",
      wire::FormatIpv4(r.dst_ip), ":", r.dst_port,
      " client=", ClientKindName(r.client.kind),
      " arch=", ArchName(r.client.arch), " file=", r.boot_file, "\n");
  absl::StrAppend(&out, DescribeMessage(r.message));
  return out;
}

}  // namespace proxydhcp
