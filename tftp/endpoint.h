// A UDP peer (address and port), the TID of RFC 1350 together with the
// address. A plain value: the pure core and the socket layer both use it.
#ifndef PXEPROXY_TFTP_ENDPOINT_H_
#define PXEPROXY_TFTP_ENDPOINT_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "wire/addr.h"

namespace tftp {

struct Endpoint {
  wire::Ipv4 ip = 0;  // host byte order
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(std::move(h), e.ip, e.port);
  }
};

inline std::string FormatEndpoint(const Endpoint& e) {
  return absl::StrCat(wire::FormatIpv4(e.ip), ":", e.port);
}

}  // namespace tftp

#endif  // PXEPROXY_TFTP_ENDPOINT_H_
