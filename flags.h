// The only place that reads flags: parses the command line into a validated
// Config. Libraries get their part of it by const reference.
#ifndef PXEPROXY_FLAGS_H_
#define PXEPROXY_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/diagnose.h"
#include "proxydhcp/respond.h"
#include "tftp/config.h"

namespace pxeproxy {

// --diagnose: explain network boots from the wire instead of serving. The
// options are what capture::RunDiagnose takes (json: --diagnose_format=json;
// color: standard output is a terminal and NO_COLOR is unset).
struct DiagnoseConfig : capture::DiagnoseOptions {
  bool enabled = false;
};

// --metrics_address and the boot log.
struct MetricsConfig {
  bool http = false;  // --metrics_address given
  wire::Ipv4 ip = 0;
  uint16_t port = 0;
  int boot_stall_seconds = 30;
};

struct Config {
  std::vector<std::string> interfaces;
  proxydhcp::ResponderConfig responder;
  bool tftp_enabled = true;
  tftp::Config tftp;
  // --user: checked and applied by privdrop (main.cc), not here, because
  // whether it matters depends on who started us.
  std::string user;
  // The user to take when `user` is the default and does not exist.
  std::string user_fallback;
  DiagnoseConfig diagnose;
  MetricsConfig metrics;
  bool check = false;  // --check: validate and print, do not serve
};

// Installs the usage message and version; call before absl::ParseCommandLine.
void SetUpUsage();
// The logging flags. Debian's glog defines its flags through gflags, which
// absl::ParseCommandLine does not know: ours are Abseil flags that main.cc
// copies into glog's (FLAGS_v...) before google::InitGoogleLogging.
struct LoggingFlags {
  int v = 0;
  bool logtostderr = true;
  std::string log_dir;
};
LoggingFlags GetLoggingFlags();
// Validates the parsed flags and the positional arguments (interfaces) into
// the complete configuration (the embedded menu among the TFTP server's
// virtual files when there is no --menu_url). Errors name the flag and the
// value.
absl::StatusOr<Config> BuildConfig(const std::vector<std::string>& positional);
// Parses a MAC rules file's text (see --mac_rules_file); `origin` names it in
// errors.
absl::StatusOr<std::vector<proxydhcp::MacRule>> ParseMacRules(
    const std::string& text, const std::string& origin);

}  // namespace pxeproxy

#endif  // PXEPROXY_FLAGS_H_
