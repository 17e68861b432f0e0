#include "wire/addr.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace wire {

std::string FormatIpv4(Ipv4 ip) {
  return absl::StrFormat("%d.%d.%d.%d", ip >> 24, (ip >> 16) & 0xff,
                         (ip >> 8) & 0xff, ip & 0xff);
}

std::optional<Ipv4> ParseIpv4(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return std::nullopt;
  Ipv4 ip = 0;
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 3) return std::nullopt;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    uint32_t octet;
    if (!absl::SimpleAtoi(part, &octet) || octet > 255) return std::nullopt;
    ip = ip << 8 | octet;
  }
  return ip;
}

std::string FormatMac(const MacAddr& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                         mac[2], mac[3], mac[4], mac[5]);
}

std::optional<MacAddr> ParseMacPrefix(absl::string_view text, size_t* len) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::ByAnyChar(":-"));
  if (parts.empty() || parts.size() > 6) return std::nullopt;
  MacAddr mac{};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty() || parts[i].size() > 2) return std::nullopt;
    uint32_t v = 0;
    for (char c : parts[i]) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    mac[i] = static_cast<uint8_t>(v);
  }
  if (len != nullptr) *len = parts.size();
  return mac;
}

}  // namespace wire
