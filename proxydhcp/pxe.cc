#include "proxydhcp/pxe.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "wire/byte_reader.h"

namespace proxydhcp {

BootArch BootArchOf(uint16_t arch) {
  switch (arch) {
    case wire::kArchBios:
      return BootArch::kBios;
    case wire::kArchEfiIa32:
    case wire::kArchHttpIa32:
      return BootArch::kEfiIa32;
    case wire::kArchEfiBc:   // 7 and 9 are both x64 in practice: RFC 4578
                             // errata,
    case wire::kArchEfiX64:  // hypervisors still send 9.
    case wire::kArchHttpX64:
      return BootArch::kEfiX64;
    case wire::kArchEfiArm64:
    case wire::kArchHttpArm64:
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
    case wire::kArchBios:
      return "bios";
    case wire::kArchEfiIa32:
      return "efi-ia32";
    case wire::kArchEfiBc:
      return "efi-x64(7)";
    case wire::kArchEfiX64:
      return "efi-x64(9)";
    case wire::kArchEfiArm32:
      return "efi-arm32";
    case wire::kArchEfiArm64:
      return "efi-arm64";
    case wire::kArchHttpIa32:
      return "http-ia32";
    case wire::kArchHttpX64:
      return "http-x64";
    case wire::kArchHttpArm32:
      return "http-arm32";
    case wire::kArchHttpArm64:
      return "http-arm64";
    case wire::kArchEfiRiscv32:
      return "efi-riscv32";
    case wire::kArchEfiRiscv64:
      return "efi-riscv64";
    case wire::kArchEfiLoongarch64:
      return "efi-loongarch64";
  }
  return "other";
}

bool IsRaspberryPiMac(const wire::MacAddr& mac) {
  static constexpr uint8_t kOuis[][3] = {
      {0xb8, 0x27, 0xeb}, {0xdc, 0xa6, 0x32}, {0xe4, 0x5f, 0x01},
      {0xd8, 0x3a, 0xdd}, {0x2c, 0xcf, 0x67}, {0x28, 0xcd, 0xc1}};
  for (const auto& oui : kOuis) {
    if (mac[0] == oui[0] && mac[1] == oui[1] && mac[2] == oui[2]) return true;
  }
  return false;
}

const std::vector<ArchEntry>& ArchRegistry() {
  // code, name, http, uefi. Deprecated types are kept: a name is cheaper
  // than an "unknown" for the one machine that still sends one.
  static const std::vector<ArchEntry> kRegistry = {
      {0, "bios", false, false},
      {1, "pc98", false, false},
      {2, "efi_itanium", false, true},
      {3, "alpha", false, false},
      {4, "arc_x86", false, false},
      {5, "intel_lean_client", false, false},
      {6, "efi_ia32", false, true},
      {7, "efi_x64", false, true},
      {8, "efi_xscale", false, true},
      {9, "efi_bc", false, true},
      {10, "efi_arm32", false, true},
      {11, "efi_arm64", false, true},
      {12, "ppc_open_firmware", false, false},
      {13, "ppc_epapr", false, false},
      {14, "power_opal_v3", false, false},
      {15, "http_ia32", true, true},
      {16, "http_x64", true, true},
      {17, "http_ebc", true, true},
      {18, "http_arm32", true, true},
      {19, "http_arm64", true, true},
      {20, "http_bios", true, false},
      {21, "uboot_arm32", false, false},
      {22, "uboot_arm64", false, false},
      {23, "http_uboot_arm32", true, false},
      {24, "http_uboot_arm64", true, false},
      {25, "efi_riscv32", false, true},
      {26, "http_riscv32", true, true},
      {27, "efi_riscv64", false, true},
      {28, "http_riscv64", true, true},
      {29, "efi_riscv128", false, true},
      {30, "http_riscv128", true, true},
      {31, "s390_basic", false, false},
      {32, "s390_extended", false, false},
      {33, "efi_mips32", false, true},
      {34, "efi_mips64", false, true},
      {35, "efi_sunway32", false, true},
      {36, "efi_sunway64", false, true},
      {37, "efi_loongarch32", false, true},
      {38, "http_loongarch32", true, true},
      {39, "efi_loongarch64", false, true},
      {40, "http_loongarch64", true, true},
      {41, "arm_rpiboot", false, false},
  };
  return kRegistry;
}

namespace {
const ArchEntry* FindArch(uint16_t code) {
  const std::vector<ArchEntry>& r = ArchRegistry();
  return code < r.size() && r[code].code == code ? &r[code] : nullptr;
}
}  // namespace

std::vector<uint16_t> ParseArchName(absl::string_view s) {
  uint32_t n;
  if (!s.empty() && absl::ascii_isdigit(s[0])) {
    if (absl::SimpleAtoi(s, &n) && FindArch(n)) {
      return {static_cast<uint16_t>(n)};
    }
    return {};
  }
  std::string name = absl::AsciiStrToLower(s);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  if (name == "efi_x64") return {wire::kArchEfiBc, wire::kArchEfiX64};
  for (const ArchEntry& e : ArchRegistry()) {
    if (name == e.name) return {e.code};
  }
  return {};
}

std::string ArchNameList() {
  std::vector<std::string> parts;
  for (const ArchEntry& e : ArchRegistry()) {
    parts.push_back(absl::StrCat(e.name, " (", e.code, ")"));
  }
  return absl::StrJoin(parts, ", ");
}

bool IsHttpBootArch(uint16_t arch) {
  const ArchEntry* e = FindArch(arch);
  return e != nullptr && e->http;
}

bool IsUefiArch(uint16_t arch) {
  const ArchEntry* e = FindArch(arch);
  // An unregistered code is newer than this table: most likely UEFI.
  return e == nullptr || e->uefi;
}

std::string ArchRegistryName(uint16_t arch) {
  const ArchEntry* e = FindArch(arch);
  return e ? std::string(e->name) : absl::StrCat(arch);
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

std::optional<ClientInfo> Classify(const wire::DhcpMessage& msg,
                                   const ClassifyConfig& config) {
  std::optional<std::string> vc = msg.options.GetString(wire::kOptVendorClass);
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
  if (auto a = wire::ClientArchOption(msg.options)) {
    info.arch = *a;
    info.arch_from_option = true;
  } else if (auto from_vc = wire::ArchFromVendorClass(*vc)) {
    info.arch = *from_vc;
  }
  // Option 97 is echoed in replies (PXE 2.1 table 2-2), so only a
  // well-formed one: type 0 and a 16-byte UUID (RFC 4578 2.5). Anything
  // else would let a request choose up to 255 bytes of our reply.
  if (auto g = msg.options.Get(wire::kOptClientGuid);
      g && g->size() == wire::kClientGuidSize && (*g)[0] == 0) {
    info.guid = std::vector<uint8_t>(g->begin(), g->end());
  }
  // Option 175 is the strong iPXE signal (dnsmasq: dhcp-match=set:ipxe,175).
  if (auto e = msg.options.Get(wire::kOptIpxeEncap)) {
    info.ipxe_has_175 = true;
    info.kind = ClientKind::kIpxe;
    if (auto subs = wire::ParseSubOptions(*e)) {
      info.ipxe_http = subs->count(wire::kIpxeFeatureHttp) ||
                       subs->count(wire::kIpxeFeatureHttps);
    }
  }
  // Option 77 "iPXE", raw (as iPXE sends it) or RFC 3004: a weaker signal.
  if (auto uc = msg.options.Get(wire::kOptUserClass)) {
    for (const std::string& c : wire::UserClasses(*uc)) {
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
