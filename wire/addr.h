// Address value types shared by every part: IPv4 addresses are kept in host
// byte order in a uint32_t; MAC addresses as six bytes.
#ifndef PXEPROXY_WIRE_ADDR_H_
#define PXEPROXY_WIRE_ADDR_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace wire {

using Ipv4 = uint32_t;  // host byte order
using MacAddr = std::array<uint8_t, 6>;

constexpr Ipv4 kIpv4Any = 0;
constexpr Ipv4 kIpv4Broadcast = 0xffffffff;
constexpr MacAddr kMacBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::string FormatIpv4(Ipv4 ip);
std::optional<Ipv4> ParseIpv4(absl::string_view text);
std::string FormatMac(const MacAddr& mac);
// Accepts 1..6 colon- or dash-separated hex octets; `len` receives how many
// were given (for prefixes). Returns nullopt on anything else.
std::optional<MacAddr> ParseMacPrefix(absl::string_view text, size_t* len);

}  // namespace wire

#endif  // PXEPROXY_WIRE_ADDR_H_
