#include "capture/diagnosis.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capture/describe.h"
#include "capture/findings.h"
#include "capture/index.h"

namespace capture {
namespace {

namespace pd = proxydhcp;

// The path of a URL up to the first iPXE setting or query, so that
// http://h/boot.php?mac=${net0/mac} matches "GET /boot.php?mac=52%3A...".
std::string UrlPathPrefix(absl::string_view url) {
  size_t scheme = url.find("://");
  if (scheme != absl::string_view::npos) {
    url.remove_prefix(scheme + 3);
    size_t slash = url.find('/');
    url = slash == absl::string_view::npos ? "/" : url.substr(slash);
  }
  return std::string(url.substr(0, url.find_first_of("$?")));
}

bool MatchesMenu(const std::string& menu_url, absl::string_view path) {
  std::string prefix = UrlPathPrefix(menu_url);
  return !prefix.empty() && absl::StartsWith(path, prefix);
}

// iPXE listens for proxy offers for 2 s after the first offer only.
bool TooLateForIpxe(const std::vector<DhcpRef>& all, size_t i) {
  const int j = all[i].cycle_first_reply;
  return j >= 0 && all[i].event->time - all[j].event->time > absl::Seconds(2);
}

struct Progress {
  Stage stage = Stage::kDiscover;
  void Reach(Stage s) { stage = std::max(stage, s); }
};

// Walks the timeline in order; the furthest stage wins.
void ComputeStage(const AnalyzerConfig& config, ClientReport& r) {
  const ClientTimeline& c = r.timeline;
  std::vector<DhcpRef> all = DhcpEventsOf(c);
  Progress p;
  for (size_t i = 0; i < all.size(); ++i) {
    const DhcpEvent& d = *all[i].dhcp;
    if (d.role == Role::kClient) {
      if (d.client && d.client->kind == pd::ClientKind::kIpxe) {
        p.Reach(Stage::kIpxe);
      }
      continue;
    }
    if (d.type == wire::kNak) continue;
    // A relay forwards only replies sent to giaddr:67 (docs/protocol.md
    // "Relays and giaddr").
    const DhcpEvent* req = RequestOf(all, i);
    if (!d.binl && req != nullptr && req->msg.giaddr != 0 &&
        (d.dst_ip != req->msg.giaddr || d.dst_port != pd::kDhcpServerPort)) {
      continue;
    }
    if (d.role == Role::kCorporate && d.type == wire::kAck) {
      p.Reach(Stage::kAddress);
    }
    std::string file = BootFileOf(d.msg);
    if (d.role == Role::kProxy || !file.empty()) p.Reach(Stage::kOffered);
    if (d.role == Role::kProxy && d.binl && d.type == wire::kAck) {
      p.Reach(Stage::kBinl);
    }
    if (d.role == Role::kProxy && !file.empty() &&
        FromKind(all, i, pd::ClientKind::kIpxe) && !TooLateForIpxe(all, i) &&
        !IpxeIgnores(d.msg) && !LooksLikeIpxeBinary(file, config.responder)) {
      p.Reach(Stage::kMenuOffered);
      if (r.menu_url.empty()) {
        r.menu_url = file;
        r.menu = {all[i].event->number, all[i].event->time};
      }
    }
  }
  for (const Event& e : c.events) {
    const bool after_offer = !r.menu_url.empty() && e.number > r.menu.number;
    if (auto* h = std::get_if<HttpEvent>(&e.body)) {
      if (after_offer && MatchesMenu(r.menu_url, h->request.path)) {
        if (p.stage != Stage::kMenu) r.menu = {e.number, e.time};
        p.Reach(Stage::kMenu);
      } else if (h->request.method == "GET") {
        p.Reach(Stage::kBootFile);
      }
    }
    auto* t = std::get_if<TftpEvent>(&e.body);
    if (t == nullptr || t->step != TftpStep::kDone) continue;
    const TftpTransfer& tr = c.transfers[t->transfer];
    if (after_offer && MatchesMenu(r.menu_url, "/" + tr.filename)) {
      if (p.stage != Stage::kMenu) r.menu = {e.number, e.time};
      p.Reach(Stage::kMenu);
    } else {
      p.Reach(Stage::kBootFile);
    }
  }
  r.stage = p.stage;
}

bool HasError(const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    if (f.severity == Severity::kError) return true;
  }
  return false;
}

void SegmentFindings(const Report& report, std::vector<Finding>& out) {
  if (report.proxies.size() < 2) return;
  std::vector<std::string> names;
  for (wire::Ipv4 p : report.proxies) names.push_back(Ip(p));
  Finding& f =
      Upsert(out, "second_proxy", Severity::kWarning,
             absl::StrCat(report.proxies.size(),
                          " proxyDHCP servers answer on this segment: ",
                          absl::StrJoin(names, ", "), "."),
             "Keep one: stop the others (dnsmasq 'dhcp-range=...,proxy', WDS, "
             "FOG, pixiecore), or make them ignore these clients.");
  for (const ClientReport& c : report.clients) {
    for (const DhcpRef& r : DhcpEventsOf(c.timeline)) {
      if (r.dhcp->role != Role::kProxy) continue;
      AddEvidence(f, *r.event);  // once per packet
    }
  }
}

}  // namespace

const char* StageName(Stage s) {
  switch (s) {
    case Stage::kDiscover:
      return "discover";
    case Stage::kOffered:
      return "offered";
    case Stage::kAddress:
      return "address";
    case Stage::kBinl:
      return "binl";
    case Stage::kBootFile:
      return "boot_file";
    case Stage::kIpxe:
      return "ipxe";
    case Stage::kMenuOffered:
      return "menu_offered";
    case Stage::kMenu:
      return "menu";
  }
  return "?";
}

namespace {

// A request in the last moments of a capture was not "unanswered": the
// capture stopped before an answer could come (a proxy answers in
// milliseconds, firmware retries after seconds). Such a finding becomes
// capture_ended when it names one request, not sent again, that recent.
constexpr absl::Duration kCaptureTail = absl::Seconds(2);

void CaptureEnded(absl::Time end, std::vector<Finding>& findings) {
  for (Finding& f : findings) {
    if ((f.id != "binl_unanswered" && f.id != "tftp_no_answer" &&
         f.id != "no_proxy_offer") ||
        f.evidence.empty()) {
      continue;
    }
    // A request sent again was waited for by the client itself: unanswered.
    if (f.evidence.size() + f.evidence_more > 1) continue;
    absl::Time first = f.evidence.front().time;
    if (end - first >= kCaptureTail) continue;
    f.message = absl::StrFormat(
        "The capture ended %.3f s after the client's request, too soon to "
        "tell whether it would be answered (it would have been '%s').",
        absl::ToDoubleSeconds(end - first), f.id);
    f.id = "capture_ended";
    f.severity = Severity::kInfo;
    f.fix =
        "Capture until the boot finishes or fails (a longer "
        "--diagnose_seconds, or let tcpdump run a minute longer).";
  }
}

}  // namespace

Report Diagnose(Timeline timeline, const AnalyzerConfig& config) {
  Report report;
  report.frames = timeline.frames;
  report.decode_errors = timeline.decode_errors;
  report.error_samples = std::move(timeline.error_samples);
  report.other_dhcp_clients = timeline.other_dhcp_clients;
  report.first_time = timeline.first_time;
  report.last_time = timeline.last_time;
  report.proxies = timeline.proxies;
  for (ClientTimeline& c : timeline.clients) {
    ClientReport r;
    r.timeline = std::move(c);
    r.description = DescribeClient(r.timeline);
    r.findings = DhcpFindings(r.timeline, config);
    for (Finding& f : TftpFindings(r.timeline, config)) {
      r.findings.push_back(std::move(f));
    }
    CaptureEnded(report.last_time, r.findings);
    for (Finding& f : r.findings) {
      std::sort(f.evidence.begin(), f.evidence.end(),
                [](const Evidence& a, const Evidence& b) {
                  return a.number < b.number;
                });
    }
    ComputeStage(config, r);
    r.ok = r.stage == Stage::kMenu ||
           (r.stage == Stage::kMenuOffered && !HasError(r.findings));
    report.clients.push_back(std::move(r));
  }
  SegmentFindings(report, report.segment);
  return report;
}

}  // namespace capture
