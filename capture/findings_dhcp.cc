// DHCP and port 4011 findings (docs/protocol.md "Diagnose findings": the
// EDK2 drop, 4011, two proxies and the corporate server's boot options).
#include <algorithm>
#include <set>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capture/describe.h"
#include "capture/finding.h"
#include "capture/finding_ids.h"
#include "capture/findings.h"
#include "capture/index.h"

namespace capture {
namespace {

using proxydhcp::ClientKind;
namespace pd = proxydhcp;

bool IsClient(const DhcpRef& r, uint8_t type) {
  return r.dhcp->role == Role::kClient && r.dhcp->type == type;
}
bool IsReply(const DhcpRef& r, Role role) { return r.dhcp->role == role; }

// 1. EDK2 drops the proxy offer and DISCOVERs again with the same xid.
void CheckEdk2Drop(const ClientTimeline& c, const std::vector<DhcpRef>& all,
                   std::vector<Finding>& out) {
  // Per xid, indexed once: corporate offers, and the positions of the
  // client's DISCOVERs and port 4011 requests (ascending).
  struct PerXid {
    bool corporate = false;
    std::vector<size_t> discovers;
    size_t last_binl_request = 0;  // + 1; 0: none
  };
  std::unordered_map<uint32_t, PerXid> by_xid;
  for (size_t j = 0; j < all.size(); ++j) {
    const DhcpEvent& d = *all[j].dhcp;
    PerXid& x = by_xid[d.msg.xid];
    if (IsReply(all[j], Role::kCorporate) && d.type == wire::kOffer) {
      x.corporate = true;
    }
    if (IsClient(all[j], wire::kDiscover)) x.discovers.push_back(j);
    if (d.role == Role::kClient && d.binl) x.last_binl_request = j + 1;
  }
  int last_rrq = 0;
  for (const TftpTransfer& t : c.transfers) {
    last_rrq = std::max(last_rrq, t.rrq_number);
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& offer = *all[i].dhcp;
    if (!IsReply(all[i], Role::kProxy) || offer.binl ||
        offer.type != wire::kOffer || !FromKind(all, i, ClientKind::kPxe)) {
      continue;
    }
    const PerXid& x = by_xid[offer.msg.xid];
    auto next = std::upper_bound(x.discovers.begin(), x.discovers.end(), i);
    const bool again = next != x.discovers.end();
    const bool progressed =
        x.last_binl_request > i + 1 || last_rrq > all[i].event->number;
    if (!x.corporate || !again || progressed) continue;
    const Event* rediscover = all[*next].event;
    Finding& f = Upsert(
        out, kFindingEdk2DroppedProxyOffer, Severity::kError,
        absl::StrCat(
            "The firmware got a proxy offer from ", Ip(offer.server_id()),
            offer.msg.options.Has(wire::kOptVendorSpecific)
                ? " carrying option 43"
                : "",
            " and an address offer, then sent DISCOVER again with the same "
            "xid and never asked for its boot file: old EDK2 drops the first "
            "proxy offer that carries PXE discovery options in option 43 "
            "(tianocore edk2#6944)."),
        "Answer UEFI PXE without option 43: pxeproxy "
        "--uefi_strategy=binl (the default), or per MAC prefix with a "
        "--mac_rules_file line 'PREFIX uefi_strategy=binl'. If the offer "
        "came from another proxy (dnsmasq pxe-service), stop it. A firmware "
        "update also fixes the drop.");
    AddEvidence(f, *all[i].event);
    AddEvidence(f, *rediscover);
  }
}

// 2. A REQUEST on port 4011 that nobody answers: PXE-E55.
void CheckBinl(const std::vector<DhcpRef>& all, std::vector<Finding>& out) {
  std::unordered_map<uint32_t, size_t> last_answer;  // xid -> position
  for (size_t j = 0; j < all.size(); ++j) {
    if (all[j].dhcp->binl && all[j].dhcp->role == Role::kProxy) {
      last_answer[all[j].dhcp->msg.xid] = j;
    }
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& req = *all[i].dhcp;
    if (req.role != Role::kClient || !req.binl) continue;
    auto answer = last_answer.find(req.msg.xid);
    if (answer != last_answer.end() && answer->second > i) continue;
    Finding& f = Upsert(
        out, "binl_unanswered", Severity::kError,
        absl::StrCat("The firmware asked ", Ip(req.dst_ip),
                     " for its boot file on port 4011 and nobody answered "
                     "(PXE-E55: proxyDHCP service did not reply to request "
                     "on port 4011)."),
        absl::StrCat(
            "Whatever sent the proxy offer must answer UDP 4011 at ",
            Ip(req.dst_ip),
            ". pxeproxy answers 4011 for every arch: check that it runs "
            "there and that the host firewall accepts UDP port 4011 (nft add "
            "rule inet filter input udp dport 4011 accept). If the offer "
            "came from another proxy without 4011 service, stop that one."));
    AddEvidence(f, *all[i].event);
  }
}

// 3. Two proxies answered the same DISCOVER.
void CheckTwoProxies(const std::vector<DhcpRef>& all,
                     std::vector<Finding>& out) {
  std::map<uint32_t, std::vector<size_t>> by_xid;
  for (size_t i = 0; i < all.size(); ++i) {
    if (IsReply(all[i], Role::kProxy) && !all[i].dhcp->binl &&
        all[i].dhcp->type == wire::kOffer) {
      by_xid[all[i].dhcp->msg.xid].push_back(i);
    }
  }
  for (const auto& [xid, offers] : by_xid) {
    std::set<wire::Ipv4> servers;
    for (size_t i : offers) servers.insert(all[i].dhcp->server_id());
    if (servers.size() < 2) continue;
    std::vector<std::string> names;
    names.reserve(servers.size());
    for (wire::Ipv4 s : servers) names.push_back(Ip(s));
    Finding& f = Upsert(
        out, "two_proxies", Severity::kWarning,
        absl::StrCat("Two proxyDHCP servers answered the same DISCOVER (",
                     absl::StrJoin(names, " and "),
                     "): the client picks one, so boots differ from run to "
                     "run (a race)."),
        "Keep one proxy per segment: stop the other one (dnsmasq "
        "'dhcp-range=...,proxy', WDS, FOG, pixiecore), or make it ignore "
        "these clients.");
    for (size_t i : offers) AddEvidence(f, *all[i].event);
  }
}

// What boot information a corporate reply carries, in words.
std::vector<std::string> BootInfoOf(const DhcpEvent& d) {
  const wire::DhcpMessage& m = d.msg;
  std::vector<std::string> what;
  if (!m.file.empty()) what.push_back("file " + Printable(m.file));
  if (auto v = m.options.GetString(wire::kOptBootfileName)) {
    what.push_back("option 67 " + Printable(v->substr(0, v->find('\0'))));
  }
  if (auto v = m.options.GetString(wire::kOptTftpServerName)) {
    what.push_back("option 66 " + Printable(*v));
  }
  // dnsmasq and others put their own address in siaddr by default; with no
  // file that says nothing, so only another host's address counts.
  if (m.siaddr != 0 && m.siaddr != d.server_id()) {
    what.push_back("next-server " + Ip(m.siaddr));
  }
  if (absl::StartsWith(m.options.GetString(wire::kOptVendorClass).value_or(""),
                       "PXEClient")) {
    what.push_back("option 60 PXEClient");
  }
  return what;
}

// Option 60 PXEClient and no boot file: EDK2 takes the corporate server
// for a proxyDHCP server and waits for it on port 4011 (FOG's wiki,
// "ProxyDHCP with dnsmasq"; EDK2 PxeBcDhcp4CallBack).
void CheckPxeClientOnly(const DhcpRef& r, std::vector<Finding>& out) {
  const DhcpEvent& d = *r.dhcp;
  Finding& f = Upsert(
      out, "corporate_pxeclient_no_file", Severity::kError,
      absl::StrCat("The corporate DHCP server ", Ip(d.server_id()),
                   " sends option 60 PXEClient with no boot file: UEFI "
                   "firmware (EDK2) takes it for a proxyDHCP server and "
                   "asks it for the boot file on port 4011, where nobody "
                   "answers."),
      "Remove option 60 from the scope serving these clients (Windows "
      "scope option 060, ISC dhcpd 'option vendor-class-identifier "
      "\"PXEClient\"', Kea 'vendor-class-identifier', dnsmasq "
      "'dhcp-option=60,PXEClient'): only a server that also sends the "
      "boot file, or a proxy, may say PXEClient.");
  AddEvidence(f, *r.event);
}

// Boot information `what` in a corporate reply: a warning, an error once
// the client follows it.
void CheckBootInfo(const TransferIndex& transfers, const DhcpRef& r,
                   const std::vector<std::string>& what,
                   std::vector<Finding>& out) {
  const DhcpEvent& d = *r.dhcp;
  Finding& f = Upsert(
      out, "corporate_boot_info", Severity::kWarning,
      absl::StrCat("The corporate DHCP server ", Ip(d.server_id()),
                   " already sends boot information (",
                   absl::StrJoin(what, ", "),
                   "): firmware and iPXE may boot that instead of the "
                   "proxy's answer (iPXE takes the first filename it "
                   "finds, netboot.xyz#736)."),
      "Remove boot options from the scope serving these clients: ISC "
      "dhcpd 'filename'/'next-server', Kea 'boot-file-name'/"
      "'next-server', Windows scope options 060/066/067, dnsmasq "
      "'dhcp-boot'. pxeproxy's --ipxe_priority (175.1) helps iPXE prefer "
      "the proxy's menu.");
  AddEvidence(f, *r.event);
  const TftpTransfer* followed = transfers.Followed(*r.event, d);
  if (followed != nullptr && f.severity == Severity::kWarning) {
    f.severity = Severity::kError;
    f.message += " The client followed it and asked for '" +
                 Printable(followed->filename) + "' from " +
                 Ip(followed->server_ip) + ".";
    AddEvidence(f, followed->rrq_number, followed->rrq_time);
  }
}

void CheckNoPxeDhcp(const DhcpRef& r, std::vector<Finding>& out) {
  const DhcpEvent& d = *r.dhcp;
  auto encap = d.msg.options.Get(wire::kOptIpxeEncap);
  auto subs = encap ? wire::ParseSubOptions(*encap) : std::nullopt;
  if (!subs || !subs->count(wire::kIpxeNoPxeDhcp)) return;
  Finding& f =
      Upsert(out, "corporate_no_pxedhcp", Severity::kError,
             absl::StrCat("The corporate DHCP server ", Ip(d.server_id()),
                          " sends option 175.176 (no-pxedhcp): iPXE then "
                          "ignores every proxy offer and never gets the menu."),
             "Remove 'option ipxe.no-pxedhcp 1' (ISC dhcpd) or "
             "'dhcp-option=175,...' with 176 (dnsmasq) from the corporate "
             "server.");
  AddEvidence(f, *r.event);
}

// 4. The corporate server already sends boot information: a warning, an
// error once the client follows it.
void CheckCorporate(const TransferIndex& transfers,
                    const std::vector<DhcpRef>& all,
                    std::vector<Finding>& out) {
  for (const DhcpRef& r : all) {
    const DhcpEvent& d = *r.dhcp;
    if (d.role != Role::kCorporate || d.type == wire::kNak) continue;
    std::vector<std::string> what = BootInfoOf(d);
    if (what.size() == 1 && what[0] == "option 60 PXEClient") {
      CheckPxeClientOnly(r, out);
    } else if (!what.empty()) {
      CheckBootInfo(transfers, r, what, out);
    }
    CheckNoPxeDhcp(r, out);
  }
}

void CheckNak(const std::vector<DhcpRef>& all, std::vector<Finding>& out) {
  for (const DhcpRef& r : all) {
    if (r.dhcp->role != Role::kCorporate || r.dhcp->type != wire::kNak)
      continue;
    Finding& f = Upsert(
        out, "dhcp_nak", Severity::kError,
        absl::StrCat("The DHCP server ", Ip(r.dhcp->server_id()),
                     " refused the client's REQUEST (NAK)."),
        "Look at that server's log: a stale lease, a second DHCP server on "
        "the segment, or a client moved between subnets.");
    AddEvidence(f, *r.event);
  }
}

}  // namespace

std::vector<Finding> DhcpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config) {
  std::vector<DhcpRef> all = DhcpEventsOf(c);
  const TransferIndex transfers(c);
  std::vector<Finding> out;
  CheckEdk2Drop(c, all, out);
  CheckBinl(all, out);
  CheckTwoProxies(all, out);
  CheckCorporate(transfers, all, out);
  CheckNak(all, out);
  CheckOffers(c, all, config, out);
  CheckIpxe(transfers, all, config, out);
  CheckRelay(all, out);
  return out;
}

}  // namespace capture
