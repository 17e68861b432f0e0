// The PXE and network-boot options of a DHCP message (RFC 4578, PXE 2.1,
// iPXE), decoded without judging them: which client gets what is proxydhcp's.
#ifndef PXEPROXY_WIRE_PXE_OPTIONS_H_
#define PXEPROXY_WIRE_PXE_OPTIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "wire/dhcp_message.h"

namespace wire {

// Client system architectures (RFC 4578 section 2.1, IANA registry).
enum : uint16_t {
  kArchBios = 0,
  kArchEfiIa32 = 6,
  kArchEfiBc = 7,  // IANA "EFI BC"; x64 in practice (RFC 4578 errata)
  kArchEfiX64 = 9,
  kArchEfiArm32 = 10,
  kArchEfiArm64 = 11,
  kArchHttpIa32 = 15,
  kArchHttpX64 = 16,
  kArchHttpArm32 = 18,
  kArchHttpArm64 = 19,
  kArchEfiRiscv32 = 25,
  kArchEfiRiscv64 = 27,
  kArchEfiLoongarch64 = 39,
  kArchHttpLoongarch64 = 40,
  kArchArmRpiboot = 41,
};

// iPXE feature flags in option 175 (iPXE include/ipxe/dhcp.h).
enum : uint8_t {
  kIpxePriority = 1,
  kIpxeNoPxeDhcp = 176,
  kIpxeFeatureHttp = 0x13,
  kIpxeFeatureHttps = 0x14,
  kIpxeFeatureTftp = 0x15,
  kIpxeFeatureEfi = 0x24,
  kIpxeFeatureMenu = 0x27,
};

// Sub-options of an encapsulated option (43 or 175): code, length, value;
// 0 is padding, 255 ends. nullopt when a length overruns.
std::optional<std::map<uint8_t, std::vector<uint8_t>>> ParseSubOptions(
    absl::Span<const uint8_t> data);

// Option 97: type 0 and a 16-byte UUID (RFC 4578 section 2.5).
constexpr size_t kClientGuidSize = 17;

// Option 77 as a list of user classes: RFC 3004 (length-prefixed instances)
// when it parses exactly as such, else the raw string (iPXE sends "iPXE" raw).
std::vector<std::string> UserClasses(absl::Span<const uint8_t> value);

// Option 93 may be a list of 2-byte codes; the first is the running arch.
// nullopt when absent or not a whole number of codes.
std::optional<uint16_t> ClientArchOption(const DhcpOptions& options);

// "PXEClient:Arch:00007:UNDI:003000" -> 7, for ROMs that omit option 93.
std::optional<uint16_t> ArchFromVendorClass(absl::string_view vendor_class);

}  // namespace wire

#endif  // PXEPROXY_WIRE_PXE_OPTIONS_H_
