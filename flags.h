// The only place that reads flags: parses the command line into a validated
// Config. Libraries get their part of it by const reference.
#ifndef PXEPROXY_FLAGS_H_
#define PXEPROXY_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxydhcp/respond.h"
#include "tftp/config.h"

namespace pxeproxy {

struct Config {
  std::vector<std::string> interfaces;
  proxydhcp::ResponderConfig responder;
  bool tftp_enabled = true;
  tftp::Config tftp;
  // --user: checked and applied by privdrop (main.cc), not here, because
  // whether it matters depends on who started us.
  std::string user;
};

// Installs the usage message and version; call before absl::ParseCommandLine.
void SetUpUsage();
// The logging flags. Debian's glog defines its flags through gflags, which
// absl::ParseCommandLine does not know: ours are Abseil flags that main.cc
// copies into glog's (BUILD-NOTES.md).
struct LoggingFlags {
  int v = 0;
  bool logtostderr = true;
  std::string log_dir;
};
LoggingFlags GetLoggingFlags();
// Validates the parsed flags and the positional arguments (interfaces).
// Errors name the flag and the value.
absl::StatusOr<Config> BuildConfig(const std::vector<std::string>& positional);
// Parses a MAC rules file's text (see --mac_rules_file); `origin` names it in
// errors.
absl::StatusOr<std::vector<proxydhcp::MacRule>> ParseMacRules(
    const std::string& text, const std::string& origin);

}  // namespace pxeproxy

#endif  // PXEPROXY_FLAGS_H_
