#include "flag_checks.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "wire/status_macros.h"

namespace pxeproxy {
namespace {

bool HasScheme(absl::string_view url) {
  size_t colon = url.find("://");
  if (colon == absl::string_view::npos || colon == 0) return false;
  for (char c : url.substr(0, colon)) {
    if (!absl::ascii_isalpha(c)) return false;
  }
  return url.size() > colon + 3;
}

}  // namespace

absl::Status Bad(absl::string_view flag, absl::string_view value,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "='", value, "': ", why));
}

absl::Status CheckPrintable(absl::string_view flag, absl::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x21 || c == 0x7f) {
      return Bad(flag, v, "contains a space or a control character");
    }
  }
  // Option 67 carries the name plus a NUL in one option (255 bytes at most),
  // which also keeps every reply under 576 bytes (RFC 2131 minimum MTU).
  if (v.size() > 254) return Bad(flag, v, "longer than 254 bytes");
  return absl::OkStatus();
}

absl::Status CheckUrl(absl::string_view flag, absl::string_view v,
                      bool http_only) {
  if (v.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(CheckPrintable(flag, v));
  if (!HasScheme(v)) return Bad(flag, v, "not an absolute URL (scheme://...)");
  if (http_only && !absl::StartsWithIgnoreCase(v, "http://") &&
      !absl::StartsWithIgnoreCase(v, "https://")) {
    return Bad(flag, v, "must be an http:// or https:// URL");
  }
  return absl::OkStatus();
}

absl::Status CheckRange(absl::string_view flag, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    return Bad(flag, absl::StrCat(v), absl::StrCat("must be ", lo, "..", hi));
  }
  return absl::OkStatus();
}

absl::StatusOr<proxydhcp::UefiStrategy> ParseStrategy(absl::string_view flag,
                                                      absl::string_view v) {
  if (v == "binl") return proxydhcp::UefiStrategy::kBinl;
  if (v == "bypass") return proxydhcp::UefiStrategy::kBypass;
  return Bad(flag, v, "must be 'binl' or 'bypass'");
}

// "ARCH=VALUE" (or, for --http_boot_url, a bare URL: x64's) into the codes
// ARCH names and VALUE; unknown names are refused with the list of names.
absl::Status ParseArchAssignment(absl::string_view flag, absl::string_view text,
                                 bool http, std::vector<uint16_t>* codes,
                                 std::string* value) {
  size_t eq = text.find('=');
  size_t scheme = text.find("://");
  if (http && scheme != absl::string_view::npos &&
      (eq == absl::string_view::npos || eq > scheme)) {
    *codes = {wire::kArchHttpX64};
    *value = std::string(text);
    return CheckUrl(flag, *value, true);
  }
  if (eq == absl::string_view::npos) {
    return Bad(flag, text,
               http ? "want URL or ARCH=URL"
                    : "want ARCH=FILE (e.g. "
                      "efi_arm64=snp-arm64.efi)");
  }
  absl::string_view arch = text.substr(0, eq);
  *value = std::string(text.substr(eq + 1));
  *codes = proxydhcp::ParseArchName(arch);
  if (codes->empty()) {
    return Bad(flag, text,
               absl::StrCat("unknown architecture '", arch,
                            "'; known: ", proxydhcp::ArchNameList()));
  }
  for (uint16_t c : *codes) {
    if (proxydhcp::IsHttpBootArch(c) != http) {
      return Bad(flag, text,
                 absl::StrCat(proxydhcp::ArchRegistryName(c), " (", c,
                              http ? ") is not an HTTP Boot architecture "
                                     "(those are http_*): use --boot_file"
                                   : ") is an HTTP Boot architecture: use "
                                     "--http_boot_url"));
    }
  }
  if (http) return CheckUrl(flag, *value, true);
  if (value->empty()) return absl::OkStatus();
  return CheckPrintable(flag, *value);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace pxeproxy
