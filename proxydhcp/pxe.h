// What kind of network-boot client sent a DHCP message: PXE firmware, UEFI
// HTTP Boot, or iPXE, and its architecture, from the options wire/pxe_options.h
// decodes.
#ifndef PXEPROXY_PROXYDHCP_PXE_H_
#define PXEPROXY_PROXYDHCP_PXE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"
#include "wire/pxe_options.h"

namespace proxydhcp {

// Raspberry Pi Ltd's MAC prefixes (b8:27:eb, dc:a6:32, e4:5f:01, d8:3a:dd,
// 2c:cf:67, 28:cd:c1). A Pi 3 ROM and the Pi 4/5 EEPROM bootloader send
// PXEClient:Arch:00000:UNDI:002001 from one: arch 0, but not an x86 PC.
bool IsRaspberryPiMac(const wire::MacAddr& mac);

// The IANA "Processor Architecture Types" registry (RFC 4578 2.1, RFC 5970
// 3.3; README "Every architecture, and Raspberry Pis"), by flag names.
struct ArchEntry {
  uint16_t code;
  const char* name;  // "efi_arm64": lower case, '_' (a '-' is accepted too)
  bool http;         // a "boot from http" type: HTTPClient, a URL in 67
  bool uefi;         // UEFI firmware (the binl/bypass choice applies)
};
const std::vector<ArchEntry>& ArchRegistry();
// The codes a name or a decimal number names: "efi_x64" is 7 and 9 (9 is
// x64 in practice, RFC 4578 errata); "7" is 7 alone. Empty if unknown.
std::vector<uint16_t> ParseArchName(absl::string_view s);
// "bios (0), efi_ia32 (6), ..." for error messages and --help.
std::string ArchNameList();
bool IsHttpBootArch(uint16_t arch);
bool IsUefiArch(uint16_t arch);
// The registry name of a code ("efi_riscv64"), or its number.
std::string ArchRegistryName(uint16_t arch);

// The boot-file classes pxeproxy configures (one flag each).
enum class BootArch { kBios, kEfiIa32, kEfiX64, kEfiArm64, kUnsupported };
BootArch BootArchOf(uint16_t arch);
const char* BootArchName(BootArch a);  // "bios", "efi_x64", ...
const char* ArchName(uint16_t arch);   // a short name for logs

enum class ClientKind { kPxe, kHttpBoot, kIpxe };
const char* ClientKindName(ClientKind k);

struct ClientInfo {
  ClientKind kind = ClientKind::kPxe;
  std::string vendor_class;   // option 60 as sent
  std::string vendor_prefix;  // the configured prefix it matched
  uint16_t arch =
      wire::kArchBios;  // option 93 (first entry), or from option 60
  bool arch_from_option = false;
  bool ipxe_has_175 = false;
  bool ipxe_http = false;  // 175 feature HTTP (or HTTPS)
  std::optional<std::vector<uint8_t>>
      guid;  // option 97 when well-formed (17 bytes, type 0)
};

struct ClassifyConfig {
  std::vector<std::string> vendor_class_prefixes = {"PXEClient", "HTTPClient"};
  // Option 77 values that mark a client as iPXE besides "iPXE" itself.
  std::vector<std::string> ipxe_user_classes;
};

// nullopt: no option 60, or one with no configured prefix (not a boot client).
std::optional<ClientInfo> Classify(const wire::DhcpMessage& msg,
                                   const ClassifyConfig& config);

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_PXE_H_
