#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "capture/describe.h"
#include "capture/render.h"

namespace capture {
namespace {

constexpr int kWidth = 100;

struct Colors {
  const char* red = "";
  const char* green = "";
  const char* yellow = "";
  const char* bold = "";
  const char* reset = "";
};

Colors MakeColors(bool on) {
  if (!on) return {};
  return {"\033[31m", "\033[32m", "\033[33m", "\033[1m", "\033[0m"};
}

// Word-wraps `text` to kWidth, the first line after `first`, the others
// indented by `indent` spaces.
std::string Wrap(absl::string_view first, absl::string_view text,
                 size_t indent) {
  std::string out(first);
  size_t col = out.size();
  bool line_start = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line_start && col + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      col = indent;
      line_start = true;
    }
    if (!line_start) {
      out.push_back(' ');
      ++col;
    }
    absl::StrAppend(&out, word);
    col += word.size();
    line_start = false;
  }
  return out + "\n";
}

std::string Rel(absl::Time t, absl::Time base) {
  return absl::StrFormat("+%.3f", absl::ToDoubleSeconds(t - base));
}

std::string Evidences(const Finding& f, absl::Time base) {
  std::vector<std::string> parts;
  for (const Evidence& e : f.evidence) {
    parts.push_back(absl::StrCat("#", e.number, " (", Rel(e.time, base), ")"));
  }
  if (f.evidence_more > 0 && parts.size() > 1) {
    // The last listed is the latest: the omitted ones come before it.
    parts.insert(parts.end() - 1, absl::StrCat("(", f.evidence_more, " more)"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string RenderFinding(const Finding& f, absl::Time base, const Colors& k,
                          absl::string_view indent) {
  const char* color = f.severity == Severity::kError ? k.red : k.yellow;
  std::string head = absl::StrCat(indent, color, SeverityName(f.severity), " ",
                                  f.id, k.reset, ": ");
  size_t pad = indent.size() + 4;
  std::string out = Wrap(head, f.message, pad);
  if (!f.evidence.empty()) {
    out += Wrap(absl::StrCat(indent, "  evidence: "), Evidences(f, base), pad);
  }
  out += Wrap(absl::StrCat(indent, "  fix: "), f.fix, pad);
  return out;
}

std::string StoppedPhrase(Stage s) {
  switch (s) {
    case Stage::kDiscover:
      return "at DISCOVER: no usable offer";
    case Stage::kOffered:
      return "after the offers: no address acquired";
    case Stage::kAddress:
      return "with an address: no boot file loaded";
    case Stage::kBinl:
      return "after port 4011: no boot file loaded";
    case Stage::kBootFile:
      return "after the boot file: iPXE not seen";
    case Stage::kIpxe:
      return "in iPXE: no menu offered";
    case Stage::kMenuOffered:
      return "at the menu offer";
    case Stage::kMenu:
      return "at the menu";
  }
  return "";
}

std::string ResultLine(const ClientReport& c, absl::Time base,
                       const Colors& k) {
  if (c.stage == Stage::kMenu) {
    return absl::StrCat("  result: reached the menu ", Printable(c.menu_url),
                        " at #", c.menu.number, " (", Rel(c.menu.time, base),
                        " s)  ", k.green, "ok", k.reset, "\n");
  }
  if (c.ok) {
    return absl::StrCat("  result: offered the menu ", Printable(c.menu_url),
                        " at #", c.menu.number,
                        "; its download is not in the capture  ", k.green, "ok",
                        k.reset, "\n");
  }
  return absl::StrCat("  result: stopped ", StoppedPhrase(c.stage), "  ", k.red,
                      "x", k.reset, "\n");
}

std::string RenderClient(const ClientReport& c, const Colors& k) {
  const ClientTimeline& t = c.timeline;
  absl::Time base = t.events.empty() ? absl::UnixEpoch() : t.events[0].time;
  std::string out = absl::StrCat(k.bold, wire::FormatMac(t.mac), k.reset, "  ",
                                 c.description, "\n");
  std::string last_dry_run;  // retransmissions repeat it: shown once
  for (const Event& e : t.events) {
    std::string head = absl::StrFormat(
        "  %6s  %8s  ", absl::StrCat("#", e.number), Rel(e.time, base));
    out += Wrap(head, DescribeEvent(t, e), head.size() + 2);
    auto* d = std::get_if<DhcpEvent>(&e.body);
    if (d == nullptr || !d->dry_run) continue;
    std::string dry = DescribeDryRun(*d->dry_run);
    if (dry == last_dry_run) continue;
    last_dry_run = dry;
    out +=
        Wrap(std::string(head.size(), ' ') + "dry run: ", dry, head.size() + 2);
  }
  out += ResultLine(c, base, k);
  for (const Finding& f : c.findings) out += RenderFinding(f, base, k, "  ");
  return out;
}

}  // namespace

std::string SummaryLine(const Report& report) {
  int reached = 0, offered = 0;
  std::map<std::string, int> stopped;
  for (const ClientReport& c : report.clients) {
    if (c.ok && c.stage == Stage::kMenu) {
      ++reached;
    } else if (c.ok) {
      ++offered;
    } else {
      std::string why = "no finding";
      for (const Finding& f : c.findings) {
        if (f.severity == Severity::kError) {
          why = f.id;
          break;
        }
      }
      ++stopped[absl::StrCat(StageName(c.stage), " (", why, ")")];
    }
  }
  size_t n = report.clients.size();
  std::vector<std::string> parts = {absl::StrCat(reached, " reached the menu")};
  if (offered > 0) {
    parts.push_back(
        absl::StrCat(offered, " offered the menu (download not captured)"));
  }
  for (const auto& [where, count] : stopped) {
    parts.push_back(absl::StrCat(count, " stopped at ", where));
  }
  return absl::StrCat(
      n, n == 1 ? " client: " : " clients: ", absl::StrJoin(parts, ", "));
}

std::string RenderText(const Report& report, const RenderOptions& options) {
  Colors k = MakeColors(options.color);
  std::string out = absl::StrFormat(
      "%s: %d frames, %s to %s UTC (%.3f s)\n", options.source, report.frames,
      absl::FormatTime("%Y-%m-%d %H:%M:%E3S", report.first_time,
                       absl::UTCTimeZone()),
      absl::FormatTime("%H:%M:%E3S", report.last_time, absl::UTCTimeZone()),
      absl::ToDoubleSeconds(report.last_time - report.first_time));
  if (!report.proxies.empty()) {
    std::vector<std::string> p;
    for (wire::Ipv4 ip : report.proxies) p.push_back(Ip(ip));
    out += "proxyDHCP servers seen: " + absl::StrJoin(p, ", ") + "\n";
  }
  if (report.other_dhcp_clients > 0) {
    absl::StrAppend(&out, "ignored: ", report.other_dhcp_clients,
                    " DHCP client(s) that are not network-booting\n");
  }
  if (report.decode_errors > 0) {
    absl::StrAppend(&out, report.decode_errors,
                    " frame(s) could not be decoded, e.g. #",
                    report.error_samples[0].first, ": ",
                    Printable(report.error_samples[0].second), "\n");
  }
  for (const ClientReport& c : report.clients) {
    out += "\n" + RenderClient(c, k);
  }
  if (!report.segment.empty()) out += "\nthe segment:\n";
  for (const Finding& f : report.segment) {
    out += RenderFinding(f, report.first_time, k, "  ");
  }
  if (report.clients.empty()) {
    out +=
        "\nno network-boot client seen (no DHCP request with option 60 "
        "PXEClient or HTTPClient, or iPXE)\n";
  }
  return out + "\nsummary: " + SummaryLine(report) + "\n";
}

}  // namespace capture
