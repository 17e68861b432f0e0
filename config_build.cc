// BuildConfig: the flags and the positional arguments into a validated
// Config, one builder per concern, checked in the order they are listed.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flag_checks.h"
#include "flags.h"
#include "flags_internal.h"
#include "tftp/embedded_menu.h"
#include "wire/status_macros.h"

namespace pxeproxy {
namespace {

// --diagnose and its companions; the other checks apply when it is off.
absl::Status BuildDiagnose(const std::vector<std::string>& positional,
                           DiagnoseConfig* d) {
  d->target = absl::GetFlag(FLAGS_diagnose);
  d->enabled = !d->target.empty();
  d->seconds = absl::GetFlag(FLAGS_diagnose_seconds);
  d->write_file = absl::GetFlag(FLAGS_diagnose_write);
  std::string format = absl::GetFlag(FLAGS_diagnose_format);
  if (format != "text" && format != "json") {
    return Bad("diagnose_format", format, "must be 'text' or 'json'");
  }
  d->json = format == "json";
  d->color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == nullptr;
  if (!d->enabled) return absl::OkStatus();
  if (!positional.empty()) {
    return Bad("diagnose", d->target,
               absl::StrCat("takes one interface or capture file; '",
                            positional[0], "' is one too many"));
  }
  RETURN_IF_ERROR(CheckRange("diagnose_seconds", d->seconds, 0, 86400));
  struct stat st;
  // A capture file, a pipe (tcpdump -w - | ...) or "-" for standard input.
  const bool is_file =
      d->target == "-" || (stat(d->target.c_str(), &st) == 0 &&
                           (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)));
  // Not a file: an interface, which cannot look like a path (a mistyped
  // capture name deserves "no such file", not "no such device").
  if (!is_file &&
      (absl::StrContains(d->target, '/') ||
       absl::EndsWith(d->target, ".pcap") ||
       absl::EndsWith(d->target, ".pcapng") || d->target.size() > 15)) {
    return Bad("diagnose", d->target,
               "is neither a capture file that exists nor an interface name");
  }
  if (!d->write_file.empty() && is_file) {
    return Bad("diagnose_write", d->write_file,
               absl::StrCat("saves a live capture, and '", d->target,
                            "' is already a file"));
  }
  return absl::OkStatus();
}

// The positional arguments: the interfaces to serve.
absl::StatusOr<std::vector<std::string>> BuildInterfaces(
    const std::vector<std::string>& positional, bool diagnose) {
  if (positional.empty() && !diagnose) {
    return absl::InvalidArgumentError(
        "no interface given: usage is 'pxeproxy [flags] IFACE...' (see "
        "--help)");
  }
  std::vector<std::string> interfaces;
  for (const std::string& name : positional) {
    if (name.empty() || name.size() > 15 || absl::StrContains(name, '/') ||
        absl::StrContains(name, ' ')) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", name, "' is not an interface name"));
    }
    if (name.front() == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", name, "' looks like a flag but is not one pxeproxy knows"));
    }
    interfaces.push_back(name);
  }
  return interfaces;
}

// What each architecture boots: --menu_url, --http_boot_url and
// --boot_file (ARCH=...), then --boot_file_bios and the like.
absl::Status BuildBootTargets(proxydhcp::ResponderConfig* r) {
  r->menu_url = absl::GetFlag(FLAGS_menu_url);
  RETURN_IF_ERROR(CheckUrl("menu_url", r->menu_url, false));
  for (const std::string& v : RepeatedValues("http_boot_url")) {
    std::vector<uint16_t> codes;
    std::string url;
    RETURN_IF_ERROR(
        ParseArchAssignment("http_boot_url", v, true, &codes, &url));
    for (uint16_t code : codes) r->http_boot_urls[code] = url;
  }
  for (const std::string& v : RepeatedValues("boot_file")) {
    std::vector<uint16_t> codes;
    std::string file;
    RETURN_IF_ERROR(ParseArchAssignment("boot_file", v, false, &codes, &file));
    for (uint16_t code : codes) r->arch_boot_files[code] = file;
  }
  return absl::OkStatus();
}

absl::Status BuildArchFiles(proxydhcp::ResponderConfig* r) {
  const std::pair<const char*, proxydhcp::BootArch> files[] = {
      {"boot_file_bios", proxydhcp::BootArch::kBios},
      {"boot_file_efi_x64", proxydhcp::BootArch::kEfiX64},
      {"boot_file_efi_ia32", proxydhcp::BootArch::kEfiIa32},
      {"boot_file_efi_arm64", proxydhcp::BootArch::kEfiArm64}};
  const std::string values[] = {absl::GetFlag(FLAGS_boot_file_bios),
                                absl::GetFlag(FLAGS_boot_file_efi_x64),
                                absl::GetFlag(FLAGS_boot_file_efi_ia32),
                                absl::GetFlag(FLAGS_boot_file_efi_arm64)};
  for (size_t i = 0; i < 4; ++i) {
    if (values[i].empty()) continue;
    RETURN_IF_ERROR(CheckPrintable(files[i].first, values[i]));
    r->boot_files[files[i].second] = values[i];
  }
  return absl::OkStatus();
}

// Where replies point and how UEFI is answered: --tftp_server,
// --uefi_strategy, --reverse_path.
absl::Status BuildReplyPolicy(proxydhcp::ResponderConfig* r) {
  std::string next_server = absl::GetFlag(FLAGS_tftp_server);
  if (!next_server.empty()) {
    std::optional<wire::Ipv4> ip = wire::ParseIpv4(next_server);
    if (!ip || *ip == 0 || *ip == wire::kIpv4Broadcast) {
      return Bad("tftp_server", next_server, "not a unicast IPv4 address");
    }
    r->tftp_server = *ip;
  }
  ASSIGN_OR_RETURN(
      r->uefi_strategy,
      ParseStrategy("uefi_strategy", absl::GetFlag(FLAGS_uefi_strategy)));
  const std::string rp = absl::GetFlag(FLAGS_reverse_path);
  std::optional<proxydhcp::ReversePath> reverse =
      proxydhcp::ParseReversePath(rp);
  if (!reverse) return Bad("reverse_path", rp, "want strict or loose");
  r->reverse_path = *reverse;
  return absl::OkStatus();
}

// Who is a network-boot client, who is iPXE.
absl::Status BuildClassify(proxydhcp::ResponderConfig* r) {
  r->classify.vendor_class_prefixes.clear();
  for (const std::string& p : absl::GetFlag(FLAGS_vendor_class_prefixes)) {
    if (p.empty()) continue;
    RETURN_IF_ERROR(CheckPrintable("vendor_class_prefixes", p));
    r->classify.vendor_class_prefixes.push_back(p);
  }
  if (r->classify.vendor_class_prefixes.empty()) {
    return Bad("vendor_class_prefixes", "", "needs at least one prefix");
  }
  for (const std::string& u : absl::GetFlag(FLAGS_ipxe_user_classes)) {
    if (!u.empty()) r->classify.ipxe_user_classes.push_back(u);
  }
  int priority = absl::GetFlag(FLAGS_ipxe_priority);
  RETURN_IF_ERROR(CheckRange("ipxe_priority", priority, -128, 127));
  r->ipxe_priority = static_cast<int8_t>(priority);
  return absl::OkStatus();
}

absl::Status LoadMacRules(proxydhcp::ResponderConfig* r) {
  std::string rules_file = absl::GetFlag(FLAGS_mac_rules_file);
  if (rules_file.empty()) return absl::OkStatus();
  std::ifstream in(rules_file);
  if (!in) return Bad("mac_rules_file", rules_file, "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(r->mac_rules, ParseMacRules(text.str(), rules_file));
  return absl::OkStatus();
}

// The proxyDHCP responder's part.
absl::Status BuildProxyDhcp(proxydhcp::ResponderConfig* r) {
  RETURN_IF_ERROR(BuildBootTargets(r));
  r->raspberry_pi = absl::GetFlag(FLAGS_raspberry_pi);
  const int window = absl::GetFlag(FLAGS_uefi_adaptive_window);
  RETURN_IF_ERROR(CheckRange("uefi_adaptive_window", window, 0, 3600));
  r->uefi_adaptive_window_ms = int64_t{window} * 1000;
  RETURN_IF_ERROR(BuildArchFiles(r));
  RETURN_IF_ERROR(BuildReplyPolicy(r));
  RETURN_IF_ERROR(BuildClassify(r));
  return LoadMacRules(r);
}

// The TFTP server's part; `c` has the interfaces and diagnose already.
absl::Status BuildTftp(const Config& c, tftp::Config* t) {
  t->root = absl::GetFlag(FLAGS_tftp_root);
  if (c.tftp_enabled && !c.diagnose.enabled && !IsDirectory(t->root)) {
    return Bad("tftp_root", t->root,
               "is not a directory (install Debian's ipxe package, or point "
               "--tftp_root at your boot files)");
  }
  t->symlink_allow = absl::GetFlag(FLAGS_tftp_symlink_allow);
  int port = absl::GetFlag(FLAGS_tftp_port);
  RETURN_IF_ERROR(CheckRange("tftp_port", port, 1, 65535));
  t->port = static_cast<uint16_t>(port);
  t->max_blksize = absl::GetFlag(FLAGS_tftp_max_blksize);
  RETURN_IF_ERROR(CheckRange("tftp_max_blksize", t->max_blksize, 8, 65464));
  t->max_windowsize = absl::GetFlag(FLAGS_tftp_max_windowsize);
  RETURN_IF_ERROR(
      CheckRange("tftp_max_windowsize", t->max_windowsize, 1, 65535));
  t->max_sessions = absl::GetFlag(FLAGS_tftp_max_sessions);
  RETURN_IF_ERROR(CheckRange("tftp_max_sessions", t->max_sessions, 1, 100000));
  t->max_sessions_per_host = absl::GetFlag(FLAGS_tftp_max_sessions_per_host);
  RETURN_IF_ERROR(CheckRange("tftp_max_sessions_per_host",
                             t->max_sessions_per_host, 1, 100000));
  if (!absl::GetFlag(FLAGS_tftp_listen_all)) t->interfaces = c.interfaces;
  t->single_port = absl::GetFlag(FLAGS_tftp_single_port);
  // Without --menu_url, iPXE clients fetch the embedded menu from our TFTP.
  if (c.responder.menu_url.empty()) {
    t->virtual_files[c.responder.embedded_menu_name] =
        tftp::EmbeddedMenu(PXEPROXY_VERSION);
  }
  return absl::OkStatus();
}

absl::Status BuildMetrics(MetricsConfig* m) {
  const std::string address = absl::GetFlag(FLAGS_metrics_address);
  m->boot_stall_seconds = absl::GetFlag(FLAGS_boot_stall_seconds);
  RETURN_IF_ERROR(
      CheckRange("boot_stall_seconds", m->boot_stall_seconds, 1, 86400));
  if (address.empty()) return absl::OkStatus();
  size_t colon = address.rfind(':');
  int port = 0;
  std::optional<wire::Ipv4> ip;
  if (colon != std::string::npos) {
    ip = wire::ParseIpv4(address.substr(0, colon));
  }
  if (!ip || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return Bad("metrics_address", address,
               "want IPV4:PORT, e.g. 127.0.0.1:9467");
  }
  m->http = true;
  m->ip = *ip;
  m->port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> BuildConfig(const std::vector<std::string>& positional) {
  Config c;
  RETURN_IF_ERROR(BuildDiagnose(positional, &c.diagnose));
  ASSIGN_OR_RETURN(c.interfaces,
                   BuildInterfaces(positional, c.diagnose.enabled));
  RETURN_IF_ERROR(BuildProxyDhcp(&c.responder));
  c.user = absl::GetFlag(FLAGS_user);
  // The package creates _pxeproxy; a source build run by hand as root has no
  // such user, and should still drop root rather than refuse to start.
  if (c.user == "_pxeproxy") c.user_fallback = "nobody";
  c.tftp_enabled = absl::GetFlag(FLAGS_tftp);
  RETURN_IF_ERROR(BuildTftp(c, &c.tftp));
  if (c.responder.menu_url.empty() && !c.tftp_enabled) {
    return absl::InvalidArgumentError(
        "--notftp without --menu_url: iPXE clients would be sent to the "
        "embedded menu, which only pxeproxy's own TFTP serves; give "
        "--menu_url");
  }
  RETURN_IF_ERROR(CheckRange("v", absl::GetFlag(FLAGS_v), 0, 10));
  RETURN_IF_ERROR(BuildMetrics(&c.metrics));
  c.check = absl::GetFlag(FLAGS_check);
  if (c.check && c.diagnose.enabled) {
    return Bad("check", "true", "cannot be combined with --diagnose");
  }
  return c;
}

}  // namespace pxeproxy
