// Findings about who answered: no address, no proxy at all, an arch without
// a boot file, iPXE's chainload loop and 2-second window, relays.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/describe.h"
#include "capture/finding.h"
#include "capture/finding_ids.h"
#include "capture/findings.h"
#include "capture/index.h"

namespace capture {
namespace {

namespace pd = proxydhcp;
using pd::ClientKind;

// Why nothing answered, from pxeproxy's own dry run of the first DISCOVER.
void ExplainSilence(const DhcpRef& discover, std::vector<Finding>& out) {
  const DhcpEvent& d = *discover.dhcp;
  const DryRun& dry = *d.dry_run;
  const uint16_t arch = d.client->arch;
  Finding* f = nullptr;
  if (dry.answers) {
    f = &Upsert(out, "no_proxy_offer", Severity::kError,
                "Nothing answered the boot part of this client's DISCOVER: "
                "no proxy offer, and the corporate offer carries no boot "
                "file. " +
                    DescribeDryRun(dry) + ".",
                "Start pxeproxy on this segment ('pxeproxy IFACE', or add it "
                "as an ip helper-address on the relay). If it runs, check "
                "that it serves the interface that sees these packets; "
                "'pxeproxy --v=1' logs every ignored request with its "
                "reason.");
  } else if (dry.ignore_reason == "no_boot_file_for_arch" ||
             dry.ignore_reason == "unsupported_arch") {
    std::string flag = ArchFlag(arch);
    f = &Upsert(
        out, "no_boot_file_for_arch", Severity::kError,
        absl::StrCat("No boot file for ", ArchLabel(arch), " (client arch ",
                     arch, "): pxeproxy would stay silent (", dry.ignore_reason,
                     ") and nothing else answered."),
        flag.empty()
            ? absl::StrCat("Give the arch a boot file: --boot_file=",
                           pd::ArchRegistryName(arch),
                           "=<file> (a boot loader built for it).")
            : absl::StrCat("Give the arch a boot file: ", flag,
                           "=<file> (an iPXE build for it, e.g. snponly.efi "
                           "for ARM64 built from ipxe.org sources; Debian's "
                           "ipxe package has no ARM64 build)."));
  } else if (dry.ignore_reason == "no_http_boot_url") {
    f = &Upsert(out, "http_boot_unanswered", Severity::kError,
                "A UEFI HTTP Boot client (HTTPClient) got no HTTP boot "
                "offer; pxeproxy would stay silent too (no_http_boot_url).",
                "Give pxeproxy --http_boot_url=http://<server>/ipxe.efi (an "
                "iPXE EFI binary served over HTTP).");
  } else {
    f = &Upsert(out, "no_proxy_offer", Severity::kError,
                "Nothing answered the boot part of this client's DISCOVER, "
                "and " +
                    DescribeDryRun(dry) + ".",
                "See the reason above; 'pxeproxy --help' lists the flag for "
                "it.");
  }
  AddEvidence(*f, *discover.event);
}

bool HasBootFile(const DhcpEvent& d) { return !BootFileOf(d.msg).empty(); }

}  // namespace

void CheckOffers(const ClientTimeline& c, const std::vector<DhcpRef>& all,
                 const AnalyzerConfig& config, std::vector<Finding>& out) {
  bool corporate = false, proxy = false, corporate_file = false;
  std::vector<const DhcpRef*> discovers;
  for (const DhcpRef& r : all) {
    const DhcpEvent& d = *r.dhcp;
    if (d.role == Role::kClient && d.type == wire::kDiscover && d.client) {
      discovers.push_back(&r);
    }
    if (d.role == Role::kCorporate && d.type != wire::kNak) {
      corporate = true;
      corporate_file |= HasBootFile(d);
    }
    proxy |= d.role == Role::kProxy;
  }
  if (discovers.empty()) return;
  if (!corporate) {
    Finding& f = Upsert(
        out, "no_corporate_offer", Severity::kError,
        absl::StrCat("No DHCP server offered an address to ", discovers.size(),
                     " DISCOVER(s): the client cannot go on (a proxy never "
                     "gives addresses)."),
        "Check the corporate DHCP server: its pool for this segment "
        "(exhausted? MAC filtering?), and that the relay (ip helper-address) "
        "forwards this VLAN. pxeproxy cannot fix this.");
    AddEvidence(f, *discovers.front()->event);
    if (discovers.size() > 1) AddEvidence(f, *discovers.back()->event);
  }
  if (!proxy && !corporate_file && discovers.front()->dhcp->dry_run) {
    ExplainSilence(*discovers.front(), out);
  }
  // The pre-deployment check: someone answers today, pxeproxy would not.
  for (const DhcpRef* r : discovers) {
    const DryRun& dry = *r->dhcp->dry_run;
    if (!proxy || dry.answers) continue;
    Finding& f = Upsert(
        out, "dry_run_silent", Severity::kWarning,
        absl::StrCat("Another proxy answers this client, but pxeproxy with "
                     "these flags would stay silent (",
                     dry.ignore_reason,
                     "): replacing it would stop this "
                     "boot."),
        "Set the flag for this client before switching (see the dry-run "
        "lines).");
    AddEvidence(f, *r->event);
  }
}

namespace {

// A proxy reply to iPXE without 175.1: iPXE then ranks the corporate
// settings block, registered first, above it (iPXE reprioritise_settings()).
const DhcpEvent* ProxyReplyWithoutPriority(const std::vector<DhcpRef>& all) {
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& d = *all[i].dhcp;
    if (d.role != Role::kProxy || !FromKind(all, i, ClientKind::kIpxe)) {
      continue;
    }
    auto e = d.msg.options.Get(wire::kOptIpxeEncap);
    auto subs = e ? wire::ParseSubOptions(*e) : std::nullopt;
    if (!subs || !subs->count(wire::kIpxePriority)) return &d;
  }
  return nullptr;
}

// 5. An iPXE binary offered to iPXE: the chainload loop. Also the replies
// iPXE drops for lack of siaddr.
void CheckIpxeReplies(const TransferIndex& transfers,
                      const std::vector<DhcpRef>& all,
                      const AnalyzerConfig& config, std::vector<Finding>& out) {
  std::set<uint32_t> rounds;
  bool corporate_loop = false;
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& d = *all[i].dhcp;
    if (d.role == Role::kClient) {
      if (d.client && d.client->kind == ClientKind::kIpxe &&
          d.type == wire::kDiscover) {
        rounds.insert(d.msg.xid);
      }
      continue;
    }
    if (!FromKind(all, i, ClientKind::kIpxe) || d.type == wire::kNak) continue;
    // A proxy's iPXE binary is what iPXE boots; a corporate one only when
    // iPXE takes it over the proxy's menu (175.1 decides: tests/e2e).
    std::string file = BootFileOf(d.msg);
    if (!file.empty() && LooksLikeIpxeBinary(file, config.responder) &&
        (d.role == Role::kProxy || transfers.Followed(*all[i].event, d))) {
      Finding& f = Upsert(
          out, kFindingIpxeChainloadLoop, Severity::kError,
          absl::StrCat("iPXE was offered '", Printable(file), "' by ",
                       Ip(d.server_id()), " (", RoleName(d.role),
                       "), an iPXE binary: it loads iPXE again, which asks "
                       "again: the chainload loop."),
          "Give clients that are already iPXE the menu: pxeproxy "
          "--menu_url=http://<server>/menu.ipxe (pxeproxy knows iPXE by "
          "option 175 and user class 'iPXE'; add others with "
          "--ipxe_user_classes). If the file comes from the corporate "
          "server, stop it giving a boot file to user class iPXE.");
      AddEvidence(f, *all[i].event);
      corporate_loop |= d.role == Role::kCorporate;
    }
    if (d.role == Role::kProxy && IpxeIgnores(d.msg)) {
      Finding& f = Upsert(
          out, "ipxe_proxy_without_siaddr", Severity::kError,
          "The proxy reply to iPXE has next-server (siaddr) 0 and no 43.9 "
          "menu: iPXE ignores such a reply ('Nothing to boot'), even with an "
          "http:// file.",
          "Set next-server in the proxy's replies (pxeproxy always does; "
          "dnsmasq: give dhcp-boot a server address).");
      AddEvidence(f, *all[i].event);
    }
  }
  for (Finding& f : out) {
    if (f.id != kFindingIpxeChainloadLoop) continue;
    if (rounds.size() >= 3) {
      f.message += absl::StrCat(" iPXE started over ", rounds.size(),
                                " times in this capture.");
    }
    if (corporate_loop && ProxyReplyWithoutPriority(all) != nullptr) {
      f.message +=
          " The proxy's reply to iPXE carried no 175.1 priority, so iPXE "
          "ranked the corporate server's settings first.";
      f.fix =
          "Keep pxeproxy's --ipxe_priority=1 (the default): with it, "
          "iPXE boots the proxy's menu even when the corporate server "
          "sends a file (tests/e2e, case 8). " +
          f.fix;
    }
  }
}

// 6. iPXE waits 2 s for proxy offers, counted from the start of its
// discovery (its first DISCOVER with that xid: dhcp->start in iPXE's
// src/net/udp/dhcp.c, DHCP_DISC_PROXY_TIMEOUT_SEC in src/config/dhcp.h):
// once it holds an address offer and 2 s have passed it moves on, and a
// later proxy offer is never seen. One that came before the address offer
// is kept, however late.
void CheckIpxeLate(const std::vector<DhcpRef>& all, std::vector<Finding>& out) {
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& d = *all[i].dhcp;
    if (d.role != Role::kProxy || d.binl ||
        !FromKind(all, i, ClientKind::kIpxe)) {
      continue;
    }
    if (all[i].discovery_start < 0 || all[i].first_address_offer < 0) continue;
    const size_t s = static_cast<size_t>(all[i].discovery_start);
    const size_t a = static_cast<size_t>(all[i].first_address_offer);
    absl::Duration late = all[i].event->time - all[s].event->time;
    if (late > absl::Seconds(2)) {
      Finding& f = Upsert(
          out, "ipxe_proxy_late", Severity::kError,
          absl::StrFormat("The proxy answered iPXE %.3f s after it began "
                          "DISCOVERing, after the address offer: iPXE waits "
                          "only 2 s from its first DISCOVER, so it never saw "
                          "the menu URL.",
                          absl::ToDoubleSeconds(late)),
          "Answer within milliseconds: pxeproxy never blocks its reply "
          "path; a late proxy is overloaded, reached over a slow relay, "
          "or does DNS or disk work first. Run pxeproxy on this segment.");
      AddEvidence(f, *all[s].event);
      AddEvidence(f, *all[a].event);
      AddEvidence(f, *all[i].event);
    }
  }
}

}  // namespace

void CheckIpxe(const TransferIndex& transfers, const std::vector<DhcpRef>& all,
               const AnalyzerConfig& config, std::vector<Finding>& out) {
  CheckIpxeReplies(transfers, all, config, out);
  CheckIpxeLate(all, out);
}

// 9. A relayed DISCOVER must be answered to giaddr:67, not by broadcast.
void CheckRelay(const std::vector<DhcpRef>& all, std::vector<Finding>& out) {
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& d = *all[i].dhcp;
    if (d.role != Role::kProxy || d.binl) continue;
    const DhcpEvent* req = RequestOf(all, i);
    if (req == nullptr || req->msg.giaddr == 0) continue;
    if (d.dst_ip == req->msg.giaddr && d.dst_port == pd::kDhcpServerPort) {
      continue;
    }
    Finding& f = Upsert(
        out, "relay_broadcast_reply", Severity::kError,
        absl::StrCat("The DISCOVER came through a relay (giaddr ",
                     Ip(req->msg.giaddr), ") but the proxy ", Ip(d.server_id()),
                     " answered to ", Ip(d.dst_ip), ":", d.dst_port,
                     ": a relay forwards only replies sent to giaddr port "
                     "67, so the client never sees this offer."),
        absl::StrCat("A proxy must unicast replies to relayed requests to ",
                     Ip(req->msg.giaddr),
                     ":67 (pxeproxy does). Fix or replace that proxy, or run "
                     "pxeproxy on the clients' segment."));
    AddEvidence(f, *all[i].event);
  }
}

}  // namespace capture
