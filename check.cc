#include "check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proxydhcp/interfaces.h"
#include "proxydhcp/respond.h"
#include "tftp/path.h"

namespace pxeproxy {
namespace {

using wire::DhcpMessage;

// A documentation address (RFC 5737) when no interface has one.
constexpr wire::Ipv4 kExampleServer = 0xc0000201;  // 192.0.2.1
constexpr wire::Ipv4 kExampleClient = 0xc0000264;  // 192.0.2.100

struct Kind {
  const char* name;
  uint16_t arch;
  const char* vendor_class;
  bool ipxe;
};

constexpr Kind kKinds[] = {
    {"BIOS PXE (arch 0)", 0, "PXEClient:Arch:00000:UNDI:002001", false},
    {"UEFI x64 PXE (arch 7)", 7, "PXEClient:Arch:00007:UNDI:003016", false},
    {"UEFI IA32 PXE (arch 6)", 6, "PXEClient:Arch:00006:UNDI:003016", false},
    {"UEFI ARM64 PXE (arch 11)", 11, "PXEClient:Arch:00011:UNDI:003016", false},
    {"UEFI HTTP Boot x64 (arch 16)", 16, "HTTPClient:Arch:00016:UNDI:003001",
     false},
    {"iPXE (UEFI x64)", 7, "PXEClient:Arch:00007:UNDI:003016", true},
    {"iPXE (BIOS)", 0, "PXEClient:Arch:00000:UNDI:002001", true},
};

wire::DhcpMessage Request(const Kind& k, uint8_t type) {
  wire::DhcpMessage m;
  m.xid = 0x0c0ffee0;
  m.chaddr = {0x52, 0x54, 0x00, 0xc0, 0xff, 0xee};
  m.options.SetU8(wire::kOptMessageType, type);
  m.options.SetString(wire::kOptVendorClass, k.vendor_class);
  m.options.SetU16(wire::kOptClientArch, k.arch);
  std::vector<uint8_t> guid(17, 0x11);
  guid[0] = 0;
  m.options.Set(wire::kOptClientGuid, guid);
  if (k.ipxe) {
    m.options.SetString(wire::kOptUserClass, "iPXE");
    // iPXE's 175: HTTP, TFTP and EFI features (iPXE include/ipxe/dhcp.h).
    m.options.Set(wire::kOptIpxeEncap,
                  {0x11, 1, 1, 0x13, 1, 1, 0x15, 1, 1, 0x24, 1, 1});
  }
  return m;
}

std::string Answer(const proxydhcp::Decision& d) {
  if (auto* ig = std::get_if<proxydhcp::Ignore>(&d)) {
    return absl::StrCat("not answered (",
                        proxydhcp::IgnoreReasonName(ig->reason), ")");
  }
  const proxydhcp::Reply& r = std::get<proxydhcp::Reply>(d);
  std::string out =
      absl::StrCat(wire::MessageTypeName(r.message.message_type().value_or(0)),
                   " file=", r.boot_file.empty() ? "(none)" : r.boot_file);
  if (r.message.siaddr != 0) {
    absl::StrAppend(&out, " next-server=", wire::FormatIpv4(r.message.siaddr));
  }
  return out;
}

class Checker {
 public:
  Checker(const Config& c, std::ostream& out) : c_(c), out_(out) {}

  int Run() {
    out_ << "pxeproxy --check\n  flags: ok\n";
    CheckInterfaces();
    CheckBootFiles();
    PrintAnswers();
    if (problems_ == 0) {
      out_ << "check: ok\n";
    } else {
      out_ << "check: " << problems_ << " problem" << (problems_ > 1 ? "s" : "")
           << "\n";
    }
    return problems_;
  }

 private:
  void Problem(const std::string& line) {
    ++problems_;
    out_ << "  PROBLEM " << line << "\n";
  }
  void Warn(const std::string& line) { out_ << "  warning " << line << "\n"; }
  void Ok(const std::string& line) { out_ << "  ok      " << line << "\n"; }

  void CheckInterfaces() {
    absl::StatusOr<std::unique_ptr<proxydhcp::InterfaceMonitor>> monitor =
        proxydhcp::InterfaceMonitor::Create();
    if (!monitor.ok()) {
      Problem(absl::StrCat("cannot read the interfaces: ",
                           monitor.status().message()));
      return;
    }
    for (const std::string& name : c_.interfaces) {
      std::optional<proxydhcp::InterfaceInfo> info = (*monitor)->ByName(name);
      if (!info) {
        Problem(absl::StrCat("interface ", name, ": does not exist"));
        continue;
      }
      std::vector<std::string> addrs;
      for (const proxydhcp::IfAddr& a : info->ipv4) {
        addrs.push_back(
            absl::StrCat(wire::FormatIpv4(a.ip), "/", a.prefix_len));
      }
      std::string desc = absl::StrCat(
          "interface ", name, ": ", info->up ? "up" : "down", ", mtu ",
          info->mtu, ", ",
          addrs.empty() ? "no IPv4 address" : absl::StrJoin(addrs, " "));
      if (!info->up || addrs.empty()) {
        Problem(desc);
      } else {
        Ok(desc);
        if (server_ip_ == 0) server_ip_ = info->ipv4.front().ip;
      }
    }
  }

  void CheckBootFiles() {
    std::set<std::string> files;
    for (const auto& [arch, file] : c_.responder.boot_files) {
      if (!file.empty()) files.insert(file);
    }
    for (const proxydhcp::MacRule& rule : c_.responder.mac_rules) {
      if (rule.boot_file) files.insert(*rule.boot_file);
    }
    if (!c_.tftp_enabled) {
      Warn(
          "--notftp: the boot files are not checked (another TFTP server "
          "serves them)");
      return;
    }
    if (c_.responder.tftp_server) {
      Warn(absl::StrCat(
          "--tftp_server=", wire::FormatIpv4(*c_.responder.tftp_server),
          ": clients may load the boot files from there; "
          "checked here in --tftp_root only"));
    }
    absl::StatusOr<tftp::PathPolicy> policy =
        tftp::PathPolicy::Create(c_.tftp.root, c_.tftp.symlink_allow);
    if (!policy.ok()) {
      Problem(absl::StrCat("--tftp_root=", c_.tftp.root, ": ",
                           policy.status().message()));
      return;
    }
    Ok(absl::StrCat("tftp root ", policy->root()));
    for (const std::string& file : files) {
      absl::StatusOr<tftp::OpenedFile> opened = policy->Open(file);
      if (!opened.ok()) {
        Problem(absl::StrCat("boot file ", file, ": ",
                             opened.status().message(), " in ",
                             policy->root()));
        continue;
      }
      const int fd = opened->fd;
      const std::string& path = opened->path;
      struct stat st;
      char byte;
      bool readable = fstat(fd, &st) == 0 &&
                      (st.st_size == 0 || pread(fd, &byte, 1, 0) == 1);
      close(fd);
      if (!readable) {
        Problem(
            absl::StrCat("boot file ", file, ": ", path, " cannot be read"));
      } else if (st.st_size == 0) {
        Problem(absl::StrCat("boot file ", file, ": ", path, " is empty"));
      } else {
        Ok(absl::StrCat("boot file ", file, ": ", path, ", ", st.st_size,
                        " bytes"));
      }
    }
  }

  void PrintAnswers() {
    const wire::Ipv4 server = server_ip_ != 0 ? server_ip_ : kExampleServer;
    out_ << "what each client gets (proxydhcp::Respond, as the daemon on "
         << (server_ip_ != 0 ? wire::FormatIpv4(server) : "192.0.2.1")
         << "):\n";
    if (!c_.responder.mac_rules.empty()) {
      out_ << "  (" << c_.responder.mac_rules.size()
           << " MAC rules may change this per machine)\n";
    }
    for (const Kind& k : kKinds) {
      proxydhcp::RequestContext ctx;
      ctx.server_ip = server;
      std::string line = Answer(
          proxydhcp::Respond(Request(k, wire::kDiscover), ctx, c_.responder));
      // UEFI PXE asks for its boot file on port 4011 after a binl offer.
      if (!k.ipxe && k.arch != 0 && k.arch != 16 &&
          std::holds_alternative<proxydhcp::Reply>(proxydhcp::Respond(
              Request(k, wire::kDiscover), ctx, c_.responder))) {
        proxydhcp::RequestContext binl = ctx;
        binl.dst_port = proxydhcp::kPxeBinlPort;
        binl.src_ip = kExampleClient;
        binl.src_port = proxydhcp::kPxeBinlPort;
        wire::DhcpMessage req = Request(k, wire::kRequest);
        req.ciaddr = kExampleClient;
        absl::StrAppend(&line, "; on port 4011: ",
                        Answer(proxydhcp::Respond(req, binl, c_.responder)));
      }
      char label[40];
      snprintf(label, sizeof(label), "%-30s", k.name);
      out_ << "  " << label << " " << line << "\n";
    }
  }

  const Config& c_;
  std::ostream& out_;
  int problems_ = 0;
  wire::Ipv4 server_ip_ = 0;
};

}  // namespace

int RunCheck(const Config& config, std::ostream& out) {
  return Checker(config, out).Run();
}

}  // namespace pxeproxy
