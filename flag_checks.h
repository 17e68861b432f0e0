// The checks flag values and MAC rules share: every error names the flag and
// the value.
#ifndef PXEPROXY_FLAG_CHECKS_H_
#define PXEPROXY_FLAG_CHECKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxydhcp/respond.h"

namespace pxeproxy {

// InvalidArgument "--FLAG='VALUE': WHY".
absl::Status Bad(absl::string_view flag, absl::string_view value,
                 absl::string_view why);
// No space or control character, at most 254 bytes (one DHCP option).
absl::Status CheckPrintable(absl::string_view flag, absl::string_view v);
// Empty, or a printable absolute URL (http:// or https:// when `http_only`).
absl::Status CheckUrl(absl::string_view flag, absl::string_view v,
                      bool http_only);
absl::Status CheckRange(absl::string_view flag, int v, int lo, int hi);
// "binl" or "bypass".
absl::StatusOr<proxydhcp::UefiStrategy> ParseStrategy(absl::string_view flag,
                                                      absl::string_view v);
// "ARCH=VALUE" (or, for --http_boot_url, a bare URL: x64's) into the codes
// ARCH names and VALUE; unknown names are refused with the list of names.
absl::Status ParseArchAssignment(absl::string_view flag, absl::string_view text,
                                 bool http, std::vector<uint16_t>* codes,
                                 std::string* value);
bool IsDirectory(const std::string& path);

}  // namespace pxeproxy

#endif  // PXEPROXY_FLAG_CHECKS_H_
