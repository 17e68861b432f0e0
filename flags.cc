#include "flags.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace pxeproxy {
// Abseil keeps only a flag's last value: each occurrence of a repeatable
// flag (--boot_file, --http_boot_url) is also appended here as it is parsed;
// setting it to "" forgets the earlier ones.
void AccumulateRepeated(const char* name);
}  // namespace pxeproxy

// --- proxyDHCP ---
ABSL_FLAG(
    std::string, menu_url, "",
    "What clients that are already iPXE boot: the URL of your menu "
    "script, e.g. http://10.0.0.5/boot.ipxe (iPXE expands settings such "
    "as ${net0/mac}). Empty: pxeproxy's embedded menu over its own TFTP.");
ABSL_FLAG(
    std::string, boot_file_bios, "undionly.kpxe",
    "Boot file for BIOS PXE firmware (client arch 0). Empty: not answered.");
ABSL_FLAG(std::string, boot_file_efi_x64, "snponly.efi",
          "Boot file for x86-64 UEFI PXE firmware (client arch 7 and 9). "
          "Empty: not answered.");
ABSL_FLAG(std::string, boot_file_efi_ia32, "",
          "Boot file for 32-bit x86 UEFI PXE firmware (client arch 6). Empty: "
          "not answered.");
ABSL_FLAG(std::string, boot_file_efi_arm64, "",
          "Boot file for ARM64 UEFI PXE firmware (client arch 11). Empty: not "
          "answered (Debian's ipxe package has no ARM64 build).");
ABSL_FLAG(std::string, http_boot_url, "",
          "URL offered to UEFI HTTP Boot clients (vendor class HTTPClient): "
          "'URL' for x86-64 (arch 16), e.g. http://10.0.0.5/ipxe.efi, or "
          "'ARCH=URL' for any HTTP Boot architecture by name or number "
          "(http_arm64=..., 19=...); repeat the flag for several. An "
          "architecture without a URL is not answered.")
    .OnUpdate([] { pxeproxy::AccumulateRepeated("http_boot_url"); });
ABSL_FLAG(std::string, boot_file, "",
          "Boot file for one PXE client architecture, 'ARCH=FILE' with ARCH "
          "an IANA name or number (efi_arm64=snp-arm64.efi, 27=riscv64.efi; "
          "efi_x64 is 7 and 9); repeat the flag for several. Wins over "
          "--boot_file_bios and the like; an empty FILE leaves that "
          "architecture unanswered. Unknown names are refused with the list.")
    .OnUpdate([] { pxeproxy::AccumulateRepeated("boot_file"); });
ABSL_FLAG(std::string, tftp_server, "",
          "Next-server (siaddr) in replies: the TFTP server's IPv4 address "
          "(UEFI binl offers keep ours: EDK2 asks 4011 there, and the 4011 "
          "ACK names this server). Empty: our own address on the interface "
          "the request came in on.");
ABSL_FLAG(std::string, uefi_strategy, "binl",
          "How UEFI PXE firmware is answered on port 67: 'binl' (no option "
          "43; old EDK2 keeps the offer, new EDK2 asks on port 4011) or "
          "'bypass' (43 = {6: 8}; new EDK2 goes straight to TFTP).");
ABSL_FLAG(int, uefi_adaptive_window, 30,
          "Adaptive UEFI strategy: a UEFI PXE client that DISCOVERs again "
          "(new xid) within this many seconds of an offer, without having "
          "reached port 4011 or TFTP, turned that offer down and gets the "
          "other --uefi_strategy next (remembered per MAC, logged and "
          "counted). 0: off, always --uefi_strategy. 0..3600.");
ABSL_FLAG(std::string, reverse_path, "strict",
          "Reverse-path check of a port-4011 source and of a relay's giaddr "
          "before a reply is sent there: 'strict' (the route back leaves "
          "through the interface the request came in on, as rp_filter=1) or "
          "'loose' (some route back exists, for asymmetric routing).");
ABSL_FLAG(std::vector<std::string>, vendor_class_prefixes,
          std::vector<std::string>({"PXEClient", "HTTPClient"}),
          "Comma-separated option 60 prefixes that mark a network-boot client; "
          "others are never answered.");
ABSL_FLAG(std::vector<std::string>, ipxe_user_classes, {},
          "Comma-separated option 77 user classes that also mark a client as "
          "iPXE (besides 'iPXE' itself and option 175).");
ABSL_FLAG(std::string, mac_rules_file, "",
          "File of per-MAC-prefix overrides, one rule a line: 'PREFIX "
          "[boot_file=NAME] [uefi_strategy=binl|bypass]', '#' comments. The "
          "first matching prefix wins. Per architecture: boot_file=ARCH=NAME "
          "and http_boot_url=ARCH=URL, as the flags.");
ABSL_FLAG(bool, raspberry_pi, false,
          "Answer Raspberry Pi boot ROMs (arch 0 from a Raspberry Pi MAC "
          "prefix) as their bootloader needs: option 43 with the menu "
          "'Raspberry Pi Boot', siaddr the TFTP server, no boot file (the Pi "
          "fetches bootcode.bin or <serial>/start4.elf from the TFTP root). "
          "Without it they are ignored (reason raspberry_pi), never sent an "
          "x86 file.");
ABSL_FLAG(int, ipxe_priority, 1,
          "iPXE settings priority (option 175.1) sent to iPXE clients so that "
          "they prefer pxeproxy's menu over a boot file from the corporate "
          "DHCP server; -128..127, 0 omits it.");
// --- TFTP ---
ABSL_FLAG(bool, tftp, true, "Run the built-in read-only TFTP server.");
ABSL_FLAG(std::string, tftp_root, "/usr/lib/ipxe",
          "Directory the TFTP server serves (read-only).");
ABSL_FLAG(
    std::vector<std::string>, tftp_symlink_allow,
    std::vector<std::string>({"/usr/lib/ipxe"}),
    "Comma-separated directories that symlinks in the TFTP root may point "
    "into (besides the root itself).");
ABSL_FLAG(int, tftp_port, 69, "UDP port of the TFTP server.");
ABSL_FLAG(int, tftp_max_blksize, 65464,
          "Largest TFTP blksize accepted, 8..65464; also clamped to the "
          "interface MTU minus 32.");
ABSL_FLAG(int, tftp_max_windowsize, 64,
          "Largest TFTP windowsize (RFC 7440) accepted, 1..65535.");
ABSL_FLAG(int, tftp_max_sessions, 10000,
          "Concurrent TFTP transfers at most; further requests are dropped "
          "(the client retries).");
ABSL_FLAG(int, tftp_max_sessions_per_host, 32,
          "Concurrent TFTP transfers from one source address at most, "
          "1..100000; further requests from it are dropped (clients behind "
          "one NAT share it).");
ABSL_FLAG(bool, tftp_listen_all, false,
          "Answer TFTP requests that arrive on any interface, not only on "
          "the served ones (and loopback).");
ABSL_FLAG(bool, tftp_single_port, false,
          "Send TFTP data from port 69 itself rather than a fresh port per "
          "transfer (for clients behind NAT).");
// --- privileges ---
ABSL_FLAG(
    std::string, user, "_pxeproxy",
    "Started as root, switch to this user once every socket is open, "
    "keeping only CAP_NET_RAW; it must exist (the default _pxeproxy, "
    "made by the Debian package, falls back to nobody). Empty: keep "
    "running as root. Started as another user (systemd's User=): ignored, and "
    "capabilities other than CAP_NET_RAW are dropped.");
// --- diagnose ---
ABSL_FLAG(std::string, diagnose, "",
          "Explain network boots instead of serving: watch an interface "
          "(live, needs root) or read a capture file (pcap/pcapng; chosen "
          "when the path exists) and tell per client how far its boot got "
          "and why it stopped. The proxyDHCP flags drive a dry run of what "
          "pxeproxy would answer.");
ABSL_FLAG(int, diagnose_seconds, 0,
          "With --diagnose on an interface: stop after this many seconds "
          "(0: at Ctrl-C).");
ABSL_FLAG(std::string, diagnose_write, "",
          "With --diagnose on an interface: also save the frames seen to "
          "this pcap file.");
ABSL_FLAG(std::string, diagnose_format, "text",
          "Output of --diagnose: 'text' (for people, colours on a terminal) "
          "or 'json' (one JSON object a line).");
// --- operations ---
ABSL_FLAG(std::string, metrics_address, "",
          "HOST:PORT for an HTTP endpoint /metrics in the Prometheus text "
          "format, e.g. 127.0.0.1:9467 (the package's suggestion). Empty: "
          "none. Opened before root is dropped.");
ABSL_FLAG(int, boot_stall_seconds, 30,
          "Boot log: a machine that makes no progress for this many seconds "
          "(offered but no 4011 request or TFTP read, a failed transfer, "
          "iPXE never back) is logged as stalled, 1..86400.");
ABSL_FLAG(bool, check, false,
          "Check the configuration, the interfaces (exist, up, IPv4) and the "
          "boot files in --tftp_root, print what each kind of client would "
          "get, and exit: 0 when all is well, 1 on a problem. Needs no "
          "root.");
// --- logging ---
ABSL_FLAG(int, v, 0,
          "Verbose logging level: 1 logs every ignored packet "
          "with its reason.");
ABSL_FLAG(bool, logtostderr, true,
          "Log to standard error (the journal under "
          "systemd) rather than to files.");
ABSL_FLAG(std::string, log_dir, "",
          "With --nologtostderr: where glog writes "
          "its log files.");

namespace pxeproxy {

namespace {
absl::Mutex repeated_mu;
std::map<std::string, std::vector<std::string>>& Repeated() {
  static auto* m = new std::map<std::string, std::vector<std::string>>;
  return *m;
}
std::string FlagValue(const std::string& name) {
  return name == "boot_file" ? absl::GetFlag(FLAGS_boot_file)
                             : absl::GetFlag(FLAGS_http_boot_url);
}
// Every value the flag was given, in order; none when it is now "".
std::vector<std::string> RepeatedValues(const std::string& name) {
  if (FlagValue(name).empty()) return {};
  absl::MutexLock lock(&repeated_mu);
  std::vector<std::string> v = Repeated()[name];
  // Set some other way than through the callback (a FlagSaver's restore):
  // the current value is the one that counts.
  if (v.empty() || v.back() != FlagValue(name)) v = {FlagValue(name)};
  return v;
}
}  // namespace

void AccumulateRepeated(const char* name) {
  std::string value = FlagValue(name);
  absl::MutexLock lock(&repeated_mu);
  std::vector<std::string>& v = Repeated()[name];
  if (value.empty()) {
    v.clear();
  } else {
    v.push_back(value);
  }
}

namespace {

absl::Status Bad(absl::string_view flag, absl::string_view value,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, "='", value, "': ", why));
}

bool HasScheme(absl::string_view url) {
  size_t colon = url.find("://");
  if (colon == absl::string_view::npos || colon == 0) return false;
  for (char c : url.substr(0, colon)) {
    if (!absl::ascii_isalpha(c)) return false;
  }
  return url.size() > colon + 3;
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
  if (absl::Status s = CheckPrintable(flag, v); !s.ok()) return s;
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

}  // namespace

void SetUpUsage() {
  absl::SetProgramUsageMessage(
      "proxyDHCP + TFTP for network boot into iPXE, beside an existing DHCP "
      "server.\n\n"
      "Usage: pxeproxy [flags] IFACE...\n"
      "       pxeproxy --diagnose=IFACE|CAPTURE.pcap [flags]   (explain "
      "boots)\n"
      "       pxeproxy --check [flags] IFACE...   (check the setup, then "
      "exit)\n\n"
      "PXE firmware gets an iPXE binary for its architecture; clients that "
      "are\n"
      "already iPXE get --menu_url. pxeproxy never hands out addresses and\n"
      "never answers clients that are not network-booting.\n"
      "SIGHUP re-reads --flagfile and --mac_rules_file. See pxeproxy(8).");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "/flags.cc") || file == "flags.cc" ||
           absl::EndsWith(file, "absl/flags/parse.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return std::string("pxeproxy ") + PXEPROXY_VERSION + "\n";
  };
  usage.normalize_filename = [](absl::string_view f) {
    size_t at = f.rfind("/absl/");
    if (at != absl::string_view::npos) return std::string(f.substr(at + 1));
    at = f.rfind('/');
    return std::string(at == absl::string_view::npos ? f : f.substr(at + 1));
  };
  absl::SetFlagsUsageConfig(usage);
}

LoggingFlags GetLoggingFlags() {
  return {absl::GetFlag(FLAGS_v), absl::GetFlag(FLAGS_logtostderr),
          absl::GetFlag(FLAGS_log_dir)};
}

absl::StatusOr<std::vector<proxydhcp::MacRule>> ParseMacRules(
    const std::string& text, const std::string& origin) {
  std::vector<proxydhcp::MacRule> rules;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::string where = absl::StrCat(origin, ":", line_no);
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
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
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(words[i], absl::MaxSplits('=', 1));
      std::vector<uint16_t> codes;
      std::string value;
      const bool per_arch_file =
          kv.first == "boot_file" && absl::StrContains(kv.second, '=');
      if (per_arch_file || kv.first == "http_boot_url") {
        if (absl::Status s = ParseArchAssignment(
                kv.first, kv.second, !per_arch_file, &codes, &value);
            !s.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": ", s.message()));
        }
        for (uint16_t c : codes) {
          (per_arch_file ? rule.arch_boot_files : rule.http_boot_urls)[c] =
              value;
        }
      } else if (kv.first == "boot_file" && !kv.second.empty()) {
        if (absl::Status s = CheckPrintable("boot_file", kv.second); !s.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": ", s.message()));
        }
        rule.boot_file = std::string(kv.second);
      } else if (kv.first == "uefi_strategy") {
        absl::StatusOr<proxydhcp::UefiStrategy> st =
            ParseStrategy("uefi_strategy", kv.second);
        if (!st.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": ", st.status().message()));
        }
        rule.uefi_strategy = *st;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": unknown setting '", words[i],
            "' (want boot_file=[ARCH=]NAME, http_boot_url=[ARCH=]URL or "
            "uefi_strategy=binl|bypass)"));
      }
    }
    if (!rule.boot_file && !rule.uefi_strategy &&
        rule.arch_boot_files.empty() && rule.http_boot_urls.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          ": a rule needs boot_file=, http_boot_url= or uefi_strategy="));
    }
    rules.push_back(rule);
  }
  return rules;
}

namespace {

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
  if (!d->enabled) return absl::OkStatus();
  if (!positional.empty()) {
    return Bad("diagnose", d->target,
               absl::StrCat("takes one interface or capture file; '",
                            positional[0], "' is one too many"));
  }
  if (absl::Status s = CheckRange("diagnose_seconds", d->seconds, 0, 86400);
      !s.ok()) {
    return s;
  }
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

absl::Status BuildMetrics(MetricsConfig* m) {
  const std::string address = absl::GetFlag(FLAGS_metrics_address);
  m->boot_stall_seconds = absl::GetFlag(FLAGS_boot_stall_seconds);
  if (absl::Status s =
          CheckRange("boot_stall_seconds", m->boot_stall_seconds, 1, 86400);
      !s.ok()) {
    return s;
  }
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
  proxydhcp::ResponderConfig& r = c.responder;
  if (absl::Status s = BuildDiagnose(positional, &c.diagnose); !s.ok()) {
    return s;
  }
  if (positional.empty() && !c.diagnose.enabled) {
    return absl::InvalidArgumentError(
        "no interface given: usage is 'pxeproxy [flags] IFACE...' (see "
        "--help)");
  }
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
    c.interfaces.push_back(name);
  }

  r.menu_url = absl::GetFlag(FLAGS_menu_url);
  if (absl::Status s = CheckUrl("menu_url", r.menu_url, false); !s.ok())
    return s;
  for (const std::string& v : RepeatedValues("http_boot_url")) {
    std::vector<uint16_t> codes;
    std::string url;
    if (absl::Status s =
            ParseArchAssignment("http_boot_url", v, true, &codes, &url);
        !s.ok()) {
      return s;
    }
    for (uint16_t code : codes) r.http_boot_urls[code] = url;
  }
  for (const std::string& v : RepeatedValues("boot_file")) {
    std::vector<uint16_t> codes;
    std::string file;
    if (absl::Status s =
            ParseArchAssignment("boot_file", v, false, &codes, &file);
        !s.ok()) {
      return s;
    }
    for (uint16_t code : codes) r.arch_boot_files[code] = file;
  }
  r.raspberry_pi = absl::GetFlag(FLAGS_raspberry_pi);
  const int window = absl::GetFlag(FLAGS_uefi_adaptive_window);
  if (absl::Status s = CheckRange("uefi_adaptive_window", window, 0, 3600);
      !s.ok()) {
    return s;
  }
  r.uefi_adaptive_window_ms = int64_t{window} * 1000;
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
    if (absl::Status s = CheckPrintable(files[i].first, values[i]); !s.ok()) {
      return s;
    }
    r.boot_files[files[i].second] = values[i];
  }
  std::string next_server = absl::GetFlag(FLAGS_tftp_server);
  if (!next_server.empty()) {
    std::optional<wire::Ipv4> ip = wire::ParseIpv4(next_server);
    if (!ip || *ip == 0 || *ip == wire::kIpv4Broadcast) {
      return Bad("tftp_server", next_server, "not a unicast IPv4 address");
    }
    r.tftp_server = *ip;
  }
  absl::StatusOr<proxydhcp::UefiStrategy> strategy =
      ParseStrategy("uefi_strategy", absl::GetFlag(FLAGS_uefi_strategy));
  if (!strategy.ok()) return strategy.status();
  r.uefi_strategy = *strategy;
  const std::string rp = absl::GetFlag(FLAGS_reverse_path);
  std::optional<proxydhcp::ReversePath> reverse =
      proxydhcp::ParseReversePath(rp);
  if (!reverse) return Bad("reverse_path", rp, "want strict or loose");
  r.reverse_path = *reverse;

  r.classify.vendor_class_prefixes.clear();
  for (const std::string& p : absl::GetFlag(FLAGS_vendor_class_prefixes)) {
    if (p.empty()) continue;
    if (absl::Status s = CheckPrintable("vendor_class_prefixes", p); !s.ok()) {
      return s;
    }
    r.classify.vendor_class_prefixes.push_back(p);
  }
  if (r.classify.vendor_class_prefixes.empty()) {
    return Bad("vendor_class_prefixes", "", "needs at least one prefix");
  }
  for (const std::string& u : absl::GetFlag(FLAGS_ipxe_user_classes)) {
    if (!u.empty()) r.classify.ipxe_user_classes.push_back(u);
  }
  int priority = absl::GetFlag(FLAGS_ipxe_priority);
  if (absl::Status s = CheckRange("ipxe_priority", priority, -128, 127);
      !s.ok()) {
    return s;
  }
  r.ipxe_priority = static_cast<int8_t>(priority);

  std::string rules_file = absl::GetFlag(FLAGS_mac_rules_file);
  if (!rules_file.empty()) {
    std::ifstream in(rules_file);
    if (!in) return Bad("mac_rules_file", rules_file, "cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<proxydhcp::MacRule>> rules =
        ParseMacRules(text.str(), rules_file);
    if (!rules.ok()) return rules.status();
    r.mac_rules = std::move(*rules);
  }

  c.user = absl::GetFlag(FLAGS_user);
  // The package creates _pxeproxy; a source build run by hand as root has no
  // such user, and should still drop root rather than refuse to start.
  if (c.user == "_pxeproxy") c.user_fallback = "nobody";
  c.tftp_enabled = absl::GetFlag(FLAGS_tftp);
  tftp::Config& t = c.tftp;
  t.root = absl::GetFlag(FLAGS_tftp_root);
  if (c.tftp_enabled && !c.diagnose.enabled && !IsDirectory(t.root)) {
    return Bad("tftp_root", t.root,
               "is not a directory (install Debian's ipxe package, or point "
               "--tftp_root at your boot files)");
  }
  t.symlink_allow = absl::GetFlag(FLAGS_tftp_symlink_allow);
  int port = absl::GetFlag(FLAGS_tftp_port);
  if (absl::Status s = CheckRange("tftp_port", port, 1, 65535); !s.ok())
    return s;
  t.port = static_cast<uint16_t>(port);
  t.max_blksize = absl::GetFlag(FLAGS_tftp_max_blksize);
  if (absl::Status s = CheckRange("tftp_max_blksize", t.max_blksize, 8, 65464);
      !s.ok()) {
    return s;
  }
  t.max_windowsize = absl::GetFlag(FLAGS_tftp_max_windowsize);
  if (absl::Status s =
          CheckRange("tftp_max_windowsize", t.max_windowsize, 1, 65535);
      !s.ok()) {
    return s;
  }
  t.max_sessions = absl::GetFlag(FLAGS_tftp_max_sessions);
  if (absl::Status s =
          CheckRange("tftp_max_sessions", t.max_sessions, 1, 100000);
      !s.ok()) {
    return s;
  }
  t.max_sessions_per_host = absl::GetFlag(FLAGS_tftp_max_sessions_per_host);
  if (absl::Status s = CheckRange("tftp_max_sessions_per_host",
                                  t.max_sessions_per_host, 1, 100000);
      !s.ok()) {
    return s;
  }
  if (!absl::GetFlag(FLAGS_tftp_listen_all)) t.interfaces = c.interfaces;
  t.single_port = absl::GetFlag(FLAGS_tftp_single_port);
  if (r.menu_url.empty() && !c.tftp_enabled) {
    return absl::InvalidArgumentError(
        "--notftp without --menu_url: iPXE clients would be sent to the "
        "embedded menu, which only pxeproxy's own TFTP serves; give "
        "--menu_url");
  }
  if (absl::Status s = CheckRange("v", absl::GetFlag(FLAGS_v), 0, 10);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = BuildMetrics(&c.metrics); !s.ok()) return s;
  c.check = absl::GetFlag(FLAGS_check);
  if (c.check && c.diagnose.enabled) {
    return Bad("check", "true", "cannot be combined with --diagnose");
  }
  return c;
}

}  // namespace pxeproxy
