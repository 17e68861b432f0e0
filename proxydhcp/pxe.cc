#include "proxydhcp/pxe.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "wire/byte_reader.h"

namespace proxydhcp {

BootArch BootArchOf(uint16_t arch) {
  switch (arch) {
    case kArchBios:
      return BootArch::kBios;
    case kArchEfiIa32:
    case kArchHttpIa32:
      return BootArch::kEfiIa32;
    case kArchEfiBc:   // 7 and 9 are both x64 in practice: RFC 4578 errata,
    case kArchEfiX64:  // hypervisors still send 9.
    case kArchHttpX64:
      return BootArch::kEfiX64;
    case kArchEfiArm64:
    case kArchHttpArm64:
      return BootArch::kEfiArm64;
  }
  return BootArch::kUnsupported;
}

const char* BootArchName(BootArch a) {
  switch (a) {
    case BootArch::kBios:
      return "bios";
    case BootArch::kEfiIa32:
      return "efi_ia32";
    case BootArch::kEfiX64:
      return "efi_x64";
    case BootArch::kEfiArm64:
      return "efi_arm64";
    case BootArch::kUnsupported:
      break;
  }
  return "unsupported";
}

const char* ArchName(uint16_t arch) {
  switch (arch) {
    case kArchBios:
      return "bios";
    case kArchEfiIa32:
      return "efi-ia32";
    case kArchEfiBc:
      return "efi-x64(7)";
    case kArchEfiX64:
      return "efi-x64(9)";
    case kArchEfiArm32:
      return "efi-arm32";
    case kArchEfiArm64:
      return "efi-arm64";
    case kArchHttpIa32:
      return "http-ia32";
    case kArchHttpX64:
      return "http-x64";
    case kArchHttpArm32:
      return "http-arm32";
    case kArchHttpArm64:
      return "http-arm64";
    case kArchEfiRiscv32:
      return "efi-riscv32";
    case kArchEfiRiscv64:
      return "efi-riscv64";
    case kArchEfiLoongarch64:
      return "efi-loongarch64";
  }
  return "other";
}

const char* ClientKindName(ClientKind k) {
  switch (k) {
    case ClientKind::kPxe:
      return "pxe";
    case ClientKind::kHttpBoot:
      return "httpboot";
    case ClientKind::kIpxe:
      return "ipxe";
  }
  return "?";
}

std::optional<std::map<uint8_t, std::vector<uint8_t>>> ParseSubOptions(
    absl::Span<const uint8_t> data) {
  std::map<uint8_t, std::vector<uint8_t>> out;
  wire::ByteReader r(data);
  while (r.remaining() > 0) {
    uint8_t code, len;
    r.ReadU8(&code);
    if (code == 0) continue;
    if (code == 255) break;
    absl::Span<const uint8_t> v;
    if (!r.ReadU8(&len) || !r.ReadBytes(len, &v)) return std::nullopt;
    auto& slot = out[code];
    slot.insert(slot.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<std::string> UserClasses(absl::Span<const uint8_t> value) {
  std::vector<std::string> rfc3004;
  wire::ByteReader r(value);
  bool ok = !value.empty();
  while (ok && r.remaining() > 0) {
    uint8_t len;
    absl::Span<const uint8_t> v;
    ok = r.ReadU8(&len) && len > 0 && r.ReadBytes(len, &v);
    if (ok) rfc3004.emplace_back(v.begin(), v.end());
  }
  if (ok) return rfc3004;
  return {std::string(value.begin(), value.end())};
}

namespace {

// "PXEClient:Arch:00007:UNDI:003000" -> 7, for ROMs that omit option 93.
std::optional<uint16_t> ArchFromVendorClass(absl::string_view vc) {
  std::vector<absl::string_view> parts = absl::StrSplit(vc, ':');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    uint32_t v;
    if (parts[i] == "Arch" && parts[i + 1].size() == 5 &&
        absl::SimpleAtoi(parts[i + 1], &v) && v <= 0xffff) {
      return static_cast<uint16_t>(v);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ClientInfo> Classify(const DhcpMessage& msg,
                                   const ClassifyConfig& config) {
  std::optional<std::string> vc = msg.options.GetString(kOptVendorClass);
  if (!vc) return std::nullopt;
  ClientInfo info;
  info.vendor_class = *vc;
  // Prefix match: EDK2 compares 9 bytes "PXEClient", 10 bytes "HTTPClient".
  for (const std::string& prefix : config.vendor_class_prefixes) {
    if (absl::StartsWith(*vc, prefix)) {
      info.vendor_prefix = prefix;
      break;
    }
  }
  if (info.vendor_prefix.empty()) return std::nullopt;
  info.kind = absl::StartsWith(*vc, "HTTPClient") ? ClientKind::kHttpBoot
                                                  : ClientKind::kPxe;
  // Option 93 may be a list of 2-byte codes; the first is the running arch.
  if (auto a = msg.options.Get(kOptClientArch);
      a && a->size() >= 2 && a->size() % 2 == 0) {
    info.arch = static_cast<uint16_t>((*a)[0] << 8 | (*a)[1]);
    info.arch_from_option = true;
  } else if (auto from_vc = ArchFromVendorClass(*vc)) {
    info.arch = *from_vc;
  }
  // Option 97 is echoed in replies (PXE 2.1 table 2-2), so only a
  // well-formed one: type 0 and a 16-byte UUID (RFC 4578 2.5). Anything
  // else would let a request choose up to 255 bytes of our reply.
  if (auto g = msg.options.Get(kOptClientGuid);
      g && g->size() == kClientGuidSize && (*g)[0] == 0) {
    info.guid = std::vector<uint8_t>(g->begin(), g->end());
  }
  // Option 175 is the strong iPXE signal (dnsmasq: dhcp-match=set:ipxe,175).
  if (auto e = msg.options.Get(kOptIpxeEncap)) {
    info.ipxe_has_175 = true;
    info.kind = ClientKind::kIpxe;
    if (auto subs = ParseSubOptions(*e)) {
      info.ipxe_http =
          subs->count(kIpxeFeatureHttp) || subs->count(kIpxeFeatureHttps);
    }
  }
  // Option 77 "iPXE", raw (as iPXE sends it) or RFC 3004: a weaker signal.
  if (auto uc = msg.options.Get(kOptUserClass)) {
    for (const std::string& c : UserClasses(*uc)) {
      bool match = c == "iPXE";
      for (const std::string& extra : config.ipxe_user_classes) {
        match = match || c == extra;
      }
      if (match && info.kind != ClientKind::kIpxe) {
        info.kind = ClientKind::kIpxe;
        info.ipxe_http = true;  // no 175 to say otherwise: assume a full build
      }
    }
  }
  return info;
}

}  // namespace proxydhcp
