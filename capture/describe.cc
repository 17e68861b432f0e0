#include "capture/describe.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capture/index.h"

namespace capture {
namespace {

using wire::DhcpMessage;

std::string VendorClassOf(const wire::DhcpMessage& m) {
  return Printable(m.options.GetString(wire::kOptVendorClass).value_or(""));
}

// What a server reply carried that matters for booting.
std::string ReplyContents(const DhcpEvent& d) {
  const wire::DhcpMessage& m = d.msg;
  std::vector<std::string> parts;
  if (m.yiaddr != 0) parts.push_back("address " + Ip(m.yiaddr));
  std::string file = BootFileOf(m);
  if (!file.empty()) parts.push_back("file " + Printable(file));
  if (m.siaddr != 0) parts.push_back("next-server " + Ip(m.siaddr));
  if (auto tftp = m.options.GetString(wire::kOptTftpServerName)) {
    parts.push_back("66 " + Printable(*tftp));
  }
  std::string vc = VendorClassOf(m);
  if (!vc.empty()) parts.push_back("60 " + vc);
  if (m.options.Has(wire::kOptVendorSpecific)) {
    parts.push_back("43");
  } else if (d.role == Role::kProxy) {
    parts.push_back("no 43");
  }
  if (auto e = m.options.Get(wire::kOptIpxeEncap)) {
    auto subs = wire::ParseSubOptions(*e);
    std::vector<std::string> codes;
    if (subs) {
      for (const auto& [code, v] : *subs) codes.push_back(absl::StrCat(code));
    }
    parts.push_back("175 {" + absl::StrJoin(codes, ",") + "}");
  }
  if (d.dst_ip == wire::kIpv4Broadcast) {
    parts.push_back(absl::StrCat("broadcast to port ", d.dst_port));
  } else {
    parts.push_back(absl::StrCat("to ", Ip(d.dst_ip), ":", d.dst_port));
  }
  return absl::StrJoin(parts, ", ");
}

std::string DescribeRequest(const DhcpEvent& d) {
  const wire::DhcpMessage& m = d.msg;
  std::string s = d.binl ? "4011 " : "";
  absl::StrAppend(&s, wire::MessageTypeName(d.type));
  absl::StrAppendFormat(&s, " xid 0x%08x", m.xid);
  if (d.client) {
    absl::StrAppend(&s, ", ", proxydhcp::ClientKindName(d.client->kind), " ",
                    proxydhcp::ArchName(d.client->arch), ", ",
                    Printable(d.client->vendor_class));
  }
  if (auto server = m.options.GetIpv4(wire::kOptServerId)) {
    absl::StrAppend(&s, ", server ", Ip(*server));
  }
  if (auto want = m.options.GetIpv4(50))
    absl::StrAppend(&s, ", for ", Ip(*want));
  if (m.giaddr != 0) absl::StrAppend(&s, ", relayed by ", Ip(m.giaddr));
  if (d.binl) {
    absl::StrAppend(&s, ", to ", Ip(d.dst_ip), " from port ", d.src_port);
  }
  return s;
}

std::string DescribeTftp(const ClientTimeline& c, const TftpEvent& e) {
  const TftpTransfer& t = c.transfers[e.transfer];
  std::vector<std::string> opts;
  for (const auto& [k, v] : e.packet.options) {
    opts.push_back(Printable(k) + "=" + Printable(v));
  }
  std::string o = opts.empty() ? "" : " (" + absl::StrJoin(opts, " ") + ")";
  switch (e.step) {
    case TftpStep::kRrq:
      return absl::StrCat(
          "TFTP RRQ ", Printable(t.filename), " to ", Ip(t.server_ip), o,
          t.rrq_count > 1 ? absl::StrCat(", sent ", t.rrq_count, " times")
                          : "");
    case TftpStep::kOack:
      return absl::StrCat("TFTP OACK from ", Ip(t.reply_ip.value_or(0)), ":",
                          t.server_port, o);
    case TftpStep::kError:
      return absl::StrCat(
          "TFTP ERROR ", e.packet.error_code, " from ",
          e.from_client ? "the client" : Ip(t.reply_ip.value_or(0)), ": \"",
          Printable(e.packet.error_message), "\"",
          t.size_probe ? " (size probe: normal for EDK2)" : "");
    case TftpStep::kDone:
      return absl::StrFormat(
          "TFTP done: %s, %d bytes in %d blocks of %d, %.3f s",
          Printable(t.filename), t.bytes, t.blocks, t.blksize,
          absl::ToDoubleSeconds(t.end_time - t.rrq_time));
    case TftpStep::kStalled:
      return absl::StrCat("TFTP stopped: ", Printable(t.filename), ", ",
                          t.blocks, " blocks (", t.bytes, " bytes), no end");
  }
  return "TFTP";
}

}  // namespace

std::string Printable(absl::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '"') {
      absl::StrAppendFormat(&out, "\\x%02x", ch);
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  return out;
}

std::string Ip(wire::Ipv4 ip) {
  return ip == kPlaceholderSelf ? "<this host>" : wire::FormatIpv4(ip);
}

std::string DescribeEvent(const ClientTimeline& c, const Event& e) {
  if (auto* d = std::get_if<DhcpEvent>(&e.body)) {
    if (d->role == Role::kClient) return DescribeRequest(*d);
    return absl::StrCat(d->binl ? "4011 " : "", wire::MessageTypeName(d->type),
                        " from ", Ip(d->server_id()), " (", RoleName(d->role),
                        "): ", ReplyContents(*d));
  }
  if (auto* t = std::get_if<TftpEvent>(&e.body)) return DescribeTftp(c, *t);
  if (auto* h = std::get_if<HttpEvent>(&e.body)) {
    return absl::StrCat("HTTP ", h->request.method, " ",
                        Printable(h->request.path), " to ", Ip(h->server), ":",
                        h->port);
  }
  return "malformed: " + std::get<MalformedEvent>(e.body).what;
}

std::string DescribeDryRun(const DryRun& d) {
  if (!d.answers) return "pxeproxy would stay silent: " + d.ignore_reason;
  const wire::DhcpMessage& m = d.reply.message;
  std::vector<std::string> parts = {"next-server " + Ip(m.siaddr)};
  auto o43 = m.options.Get(wire::kOptVendorSpecific);
  auto subs = o43 ? wire::ParseSubOptions(*o43) : std::nullopt;
  parts.push_back(!o43                          ? "no 43"
                  : subs && subs->count(9) != 0 ? "43 menu 'Raspberry Pi Boot'"
                                                : "43 {6: 8}");
  if (d.reply.uefi_switched) {
    parts.push_back(absl::StrCat(
        "adaptive: ", proxydhcp::UefiStrategyName(*d.reply.uefi_strategy),
        " after the offer it turned down"));
  }
  if (auto e = m.options.Get(wire::kOptIpxeEncap); e && e->size() == 3) {
    parts.push_back(
        absl::StrCat("175.1 priority ", static_cast<int8_t>((*e)[2])));
  }
  if (d.reply.broadcast) {
    parts.push_back(absl::StrCat("broadcast to port ", d.reply.dst_port));
  } else {
    parts.push_back(
        absl::StrCat("to ", Ip(d.reply.dst_ip), ":", d.reply.dst_port));
  }
  return absl::StrCat(
      "pxeproxy would ", wire::MessageTypeName(m.message_type().value_or(0)),
      " ", Printable(d.reply.boot_file), " (", absl::StrJoin(parts, ", "), ")");
}

namespace {

// The words for an arch pxeproxy has a boot file flag for; null: another.
struct ArchWords {
  const char* label;  // "UEFI x64"
  const char* flag;   // "--boot_file_efi_x64"
};
std::optional<ArchWords> WordsOf(uint16_t arch) {
  switch (proxydhcp::BootArchOf(arch)) {
    case proxydhcp::BootArch::kBios:
      return ArchWords{"BIOS", "--boot_file_bios"};
    case proxydhcp::BootArch::kEfiIa32:
      return ArchWords{"UEFI IA32", "--boot_file_efi_ia32"};
    case proxydhcp::BootArch::kEfiX64:
      return ArchWords{"UEFI x64", "--boot_file_efi_x64"};
    case proxydhcp::BootArch::kEfiArm64:
      return ArchWords{"UEFI ARM64", "--boot_file_efi_arm64"};
    case proxydhcp::BootArch::kUnsupported:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string ArchLabel(uint16_t arch) {
  if (auto words = WordsOf(arch)) return words->label;
  return absl::StrCat("arch ", arch, " (", proxydhcp::ArchName(arch), ")");
}

std::string ArchFlag(uint16_t arch) {
  auto words = WordsOf(arch);
  return words ? words->flag : "";
}

std::string DescribeClient(const ClientTimeline& c) {
  const proxydhcp::ClientInfo* first = nullptr;
  bool later_ipxe = false;
  for (const DhcpRef& r : DhcpEventsOf(c)) {
    if (!r.dhcp->client) continue;
    if (first == nullptr) {
      first = &*r.dhcp->client;
    } else if (r.dhcp->client->kind == proxydhcp::ClientKind::kIpxe) {
      later_ipxe = first->kind != proxydhcp::ClientKind::kIpxe;
    }
  }
  if (first == nullptr) return "(no boot request seen)";
  std::string kind;
  switch (first->kind) {
    case proxydhcp::ClientKind::kPxe:
      kind = "PXE firmware";
      break;
    case proxydhcp::ClientKind::kHttpBoot:
      kind = "UEFI HTTP Boot";
      break;
    case proxydhcp::ClientKind::kIpxe:
      kind = "iPXE";
      break;
  }
  std::string arch = ArchLabel(first->arch);
  if (first->kind == proxydhcp::ClientKind::kHttpBoot) {
    arch = absl::StrCat("arch ", first->arch, ",");  // "UEFI" is in the kind
  }
  return absl::StrCat(arch, " ", kind, " (", Printable(first->vendor_class),
                      ")", later_ipxe ? ", then iPXE" : "");
}

}  // namespace capture
