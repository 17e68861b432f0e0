#include "tftp/options.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "wire/decimal.h"

namespace tftp {
namespace {

absl::Status Bad(const std::string& name, const std::string& value,
                 const char* want) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": want ", want, ", got '", value.substr(0, 32), "'"));
}

}  // namespace

absl::StatusOr<Negotiated> Negotiate(
    const std::vector<std::pair<std::string, std::string>>& options,
    std::optional<uint64_t> transfer_size, const NegotiationLimits& limits) {
  Negotiated n;
  n.timeout_ms = limits.default_timeout_ms;
  std::set<std::string> seen;
  for (const auto& [name, value] : options) {
    if (!seen.insert(name).second) continue;
    uint64_t v = 0;
    bool numeric = wire::ParseDecimal(value, &v);
    if (name == "blksize") {
      if (!numeric || v < kMinBlksize) return Bad(name, value, "8..65464");
      n.blksize = static_cast<int>(
          std::min<uint64_t>(v, std::max(limits.max_blksize, kMinBlksize)));
      n.oack.emplace_back(name, absl::StrCat(n.blksize));
    } else if (name == "windowsize") {
      if (!numeric || v < 1) return Bad(name, value, "1..65535");
      n.windowsize = static_cast<int>(
          std::min<uint64_t>(v, std::max(limits.max_windowsize, 1)));
      n.oack.emplace_back(name, absl::StrCat(n.windowsize));
    } else if (name == "tsize") {
      // RFC 2349: in an RRQ the client sends 0 and the server answers with
      // the size. Any value is accepted; the answer is always the real size.
      // Except 0: curl (lib/tftp.c, "invalid tsize value in OACK packet")
      // aborts on it, so for an empty file the option is not acknowledged.
      if (!transfer_size || *transfer_size == 0) continue;
      n.oack.emplace_back(name, absl::StrCat(*transfer_size));
    } else if (name == "timeout") {
      // RFC 2349: 1..255 seconds. Out of range is not an error worth a
      // failed boot: the option is left out of the OACK and our default used.
      if (!numeric || v < 1 || v > 255) continue;
      n.timeout_ms = static_cast<int>(v) * 1000;
      n.oack.emplace_back(name, absl::StrCat(v));
    }
  }
  return n;
}

}  // namespace tftp
