#include "flags.h"

#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "flags_internal.h"

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
}  // namespace

std::vector<std::string> RepeatedValues(const std::string& name) {
  if (FlagValue(name).empty()) return {};
  absl::MutexLock lock(&repeated_mu);
  std::vector<std::string> v = Repeated()[name];
  // Set some other way than through the callback (a FlagSaver's restore):
  // the current value is the one that counts.
  if (v.empty() || v.back() != FlagValue(name)) v = {FlagValue(name)};
  return v;
}

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

}  // namespace pxeproxy
