// The one parser for the decimal numbers protocols carry as text (TFTP option
// values: RFC 2347 sends "1468", not a binary field).
#ifndef PXEPROXY_WIRE_DECIMAL_H_
#define PXEPROXY_WIRE_DECIMAL_H_

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace wire {

// Decimal digits only: absl::SimpleAtoi would accept "+8" or " 8", which no
// RFC allows and which a later parser might read differently. At most 12
// digits, so the value never overflows.
inline bool ParseDecimal(absl::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(s, out);
}

}  // namespace wire

#endif  // PXEPROXY_WIRE_DECIMAL_H_
