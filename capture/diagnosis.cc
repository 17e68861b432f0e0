#include "capture/diagnosis.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capture/findings_util.h"

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
    // A relay forwards only replies sent to giaddr:67 (PROTOCOL.md 2).
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

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "?";
}

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

Finding& Upsert(std::vector<Finding>& out, const std::string& id,
                Severity severity, const std::string& message,
                const std::string& fix) {
  for (Finding& f : out) {
    if (f.id == id) return f;
  }
  out.push_back(Finding{id, severity, message, fix, {}});
  return out.back();
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

void AddEvidence(Finding& f, int number, absl::Time time) {
  if (f.evidence_numbers.count(number) ||
      (!f.evidence.empty() && f.evidence.back().number == number)) {
    return;
  }
  if (f.evidence.size() < kMaxEvidence) {
    f.evidence_numbers.insert(number);
    f.evidence.push_back({number, time});
    return;
  }
  // Full: the last slot shows the latest; the one it replaces is counted.
  ++f.evidence_more;
  if (number > f.evidence.back().number) {
    f.evidence_numbers.erase(f.evidence.back().number);
    f.evidence_numbers.insert(number);
    f.evidence.back() = {number, time};
  }
}

const DhcpEvent* RequestOf(const std::vector<DhcpRef>& all, size_t i) {
  return all[i].request >= 0 ? all[all[i].request].dhcp : nullptr;
}

bool FromKind(const std::vector<DhcpRef>& all, size_t i, pd::ClientKind kind) {
  const DhcpEvent* req = RequestOf(all, i);
  return req != nullptr && req->client && req->client->kind == kind;
}

TransferIndex::TransferIndex(const ClientTimeline& c) : c_(c) {
  for (size_t i = 0; i < c.transfers.size(); ++i) {
    by_file_[c.transfers[i].filename].push_back(i);
    by_server_[c.transfers[i].server_ip].push_back(i);
  }
}

size_t TransferIndex::FirstFrom(const std::vector<size_t>* positions,
                                int number) const {
  if (positions == nullptr) return std::string::npos;
  // Transfers are in capture order, so their RRQ numbers ascend.
  auto it = std::lower_bound(
      positions->begin(), positions->end(), number,
      [this](size_t i, int n) { return c_.transfers[i].rrq_number < n; });
  return it == positions->end() ? std::string::npos : *it;
}

const TftpTransfer* TransferIndex::Followed(const Event& reply,
                                            const DhcpEvent& d) const {
  const std::string file = BootFileOf(d.msg);
  const wire::Ipv4 next = d.msg.siaddr;
  auto positions = [](const auto& index,
                      const auto& key) -> const std::vector<size_t>* {
    auto it = index.find(key);
    return it == index.end() ? nullptr : &it->second;
  };
  size_t first = std::string::npos;
  if (!file.empty()) first = FirstFrom(positions(by_file_, file), reply.number);
  if (next != 0 && next != d.server_id()) {
    first =
        std::min(first, FirstFrom(positions(by_server_, next), reply.number));
  }
  return first == std::string::npos ? nullptr : &c_.transfers[first];
}

bool IpxeIgnores(const wire::DhcpMessage& m) {
  if (m.siaddr != 0) return false;
  auto v = m.options.Get(wire::kOptVendorSpecific);
  auto subs = v ? wire::ParseSubOptions(*v) : std::nullopt;
  return !subs || !subs->count(9);
}

std::string BootFileOf(const wire::DhcpMessage& m) {
  if (!m.file.empty()) return m.file;
  // Option 67 often carries its C string's NUL (dnsmasq, pxeproxy itself:
  // PROTOCOL.md section 2); the name ends there.
  std::string v = m.options.GetString(wire::kOptBootfileName).value_or("");
  return v.substr(0, v.find('\0'));
}

bool LooksLikeIpxeBinary(const std::string& file,
                         const pd::ResponderConfig& config) {
  for (const auto& [arch, name] : config.boot_files) {
    if (!name.empty() && file == name) return true;
  }
  for (const auto& [code, name] : config.arch_boot_files) {
    if (!name.empty() && file == name) return true;
  }
  std::string base = absl::AsciiStrToLower(file.substr(file.rfind('/') + 1));
  for (const char* suffix : {".kpxe", ".kkpxe", ".kkkpxe", ".pxe", ".lkrn"}) {
    if (absl::EndsWith(base, suffix)) return true;
  }
  return absl::EndsWith(base, ".efi") &&
         (absl::StrContains(base, "ipxe") || absl::StartsWith(base, "snp"));
}

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
