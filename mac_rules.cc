// --mac_rules_file: per-MAC-prefix overrides, one rule a line.
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "flag_checks.h"
#include "flags.h"
#include "wire/status_macros.h"

namespace pxeproxy {
namespace {

// One "KEY=VALUE" setting of a rule into `rule`.
absl::Status ApplySetting(absl::string_view word, proxydhcp::MacRule* rule) {
  std::pair<absl::string_view, absl::string_view> kv =
      absl::StrSplit(word, absl::MaxSplits('=', 1));
  const bool per_arch_file =
      kv.first == "boot_file" && absl::StrContains(kv.second, '=');
  if (per_arch_file || kv.first == "http_boot_url") {
    std::vector<uint16_t> codes;
    std::string value;
    RETURN_IF_ERROR(ParseArchAssignment(kv.first, kv.second, !per_arch_file,
                                        &codes, &value));
    for (uint16_t c : codes) {
      (per_arch_file ? rule->arch_boot_files : rule->http_boot_urls)[c] = value;
    }
  } else if (kv.first == "boot_file" && !kv.second.empty()) {
    RETURN_IF_ERROR(CheckPrintable("boot_file", kv.second));
    rule->boot_file = std::string(kv.second);
  } else if (kv.first == "uefi_strategy") {
    ASSIGN_OR_RETURN(rule->uefi_strategy,
                     ParseStrategy("uefi_strategy", kv.second));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown setting '", word,
        "' (want boot_file=[ARCH=]NAME, http_boot_url=[ARCH=]URL or "
        "uefi_strategy=binl|bypass)"));
  }
  return absl::OkStatus();
}

// One rule line, comments and surrounding blanks already stripped.
absl::StatusOr<proxydhcp::MacRule> ParseRule(absl::string_view line,
                                             const std::string& where) {
  std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  proxydhcp::MacRule rule;
  std::optional<wire::MacAddr> prefix =
      wire::ParseMacPrefix(words[0], &rule.prefix_len);
  if (!prefix) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": '", words[0], "' is not a MAC prefix (like 52:54:00)"));
  }
  rule.prefix = *prefix;
  for (size_t i = 1; i < words.size(); ++i) {
    if (absl::Status s = ApplySetting(words[i], &rule); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
  }
  if (!rule.boot_file && !rule.uefi_strategy && rule.arch_boot_files.empty() &&
      rule.http_boot_urls.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": a rule needs boot_file=, http_boot_url= or uefi_strategy="));
  }
  return rule;
}

}  // namespace

absl::StatusOr<std::vector<proxydhcp::MacRule>> ParseMacRules(
    const std::string& text, const std::string& origin) {
  std::vector<proxydhcp::MacRule> rules;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    ASSIGN_OR_RETURN(proxydhcp::MacRule rule,
                     ParseRule(line, absl::StrCat(origin, ":", line_no)));
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace pxeproxy
