#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "capture/describe.h"
#include "capture/index.h"
#include "capture/render.h"

namespace capture {
namespace {

// A JSON string literal (RFC 8259): quotes, backslashes and control
// characters escaped; other bytes pass (Printable already made them ASCII).
std::string Str(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(ch));
    } else if (ch < 0x20 || ch >= 0x7f) {
      absl::StrAppendFormat(&out, "\\u%04x", ch);
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  return out + "\"";
}

std::string Time(absl::Time t) {
  return absl::StrFormat("%.6f", absl::ToDoubleSeconds(t - absl::UnixEpoch()));
}

std::string Findings(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) {
    std::vector<std::string> ev;
    for (const Evidence& e : f.evidence) {
      ev.push_back(
          absl::StrCat("{\"n\":", e.number, ",\"time\":", Time(e.time), "}"));
    }
    out.push_back(absl::StrCat(
        "{\"id\":", Str(f.id), ",\"severity\":", Str(SeverityName(f.severity)),
        ",\"message\":", Str(f.message), ",\"fix\":", Str(f.fix),
        ",\"evidence\":[", absl::StrJoin(ev, ","), "]",
        f.evidence_more > 0
            ? absl::StrCat(",\"evidence_more\":", f.evidence_more)
            : std::string(),
        "}"));
  }
  return "[" + absl::StrJoin(out, ",") + "]";
}

const char* KindOf(const Event& e) {
  if (std::holds_alternative<DhcpEvent>(e.body)) return "dhcp";
  if (std::holds_alternative<TftpEvent>(e.body)) return "tftp";
  if (std::holds_alternative<HttpEvent>(e.body)) return "http";
  return "malformed";
}

std::string EventJson(const ClientTimeline& c, const Event& e) {
  std::string out =
      absl::StrCat("{\"n\":", e.number, ",\"time\":", Time(e.time),
                   ",\"kind\":", Str(KindOf(e)));
  if (auto* d = std::get_if<DhcpEvent>(&e.body)) {
    absl::StrAppend(&out, ",\"type\":", Str(wire::MessageTypeName(d->type)),
                    ",\"role\":", Str(RoleName(d->role)),
                    ",\"binl\":", d->binl ? "true" : "false",
                    absl::StrFormat(",\"xid\":\"0x%08x\"", d->msg.xid));
    if (d->role != Role::kClient) {
      absl::StrAppend(&out, ",\"server\":", Str(Ip(d->server_id())),
                      ",\"file\":", Str(Printable(BootFileOf(d->msg))));
    }
    if (d->dry_run) {
      absl::StrAppend(
          &out,
          ",\"dry_run\":{\"answers\":", d->dry_run->answers ? "true" : "false",
          ",\"reason\":", Str(d->dry_run->ignore_reason),
          ",\"boot_file\":", Str(Printable(d->dry_run->reply.boot_file)),
          ",\"text\":", Str(DescribeDryRun(*d->dry_run)), "}");
    }
  }
  return out + ",\"text\":" + Str(DescribeEvent(c, e)) + "}";
}

std::string ClientJson(const ClientReport& r) {
  const ClientTimeline& c = r.timeline;
  std::vector<std::string> ips, events;
  for (wire::Ipv4 ip : c.ips) ips.push_back(Str(Ip(ip)));
  for (const Event& e : c.events) events.push_back(EventJson(c, e));
  return absl::StrCat(
      "{\"type\":\"client\",\"mac\":", Str(wire::FormatMac(c.mac)),
      ",\"description\":", Str(r.description), ",\"ips\":[",
      absl::StrJoin(ips, ","), "],\"stage\":", Str(StageName(r.stage)),
      ",\"ok\":", r.ok ? "true" : "false",
      ",\"menu_url\":", Str(Printable(r.menu_url)),
      ",\"menu_packet\":", r.menu.number, ",\"events\":[",
      absl::StrJoin(events, ","), "],\"findings\":", Findings(r.findings),
      "}\n");
}

}  // namespace

std::string RenderJson(const Report& report, const RenderOptions& options) {
  std::string out;
  for (const ClientReport& c : report.clients) out += ClientJson(c);
  for (const Finding& f : report.segment) {
    std::string one = Findings({f});
    out += absl::StrCat("{\"type\":\"finding\",\"finding\":",
                        one.substr(1, one.size() - 2), "}\n");
  }
  int reached = 0, ok = 0;
  std::map<std::string, int> stopped;
  for (const ClientReport& c : report.clients) {
    reached += c.stage == Stage::kMenu;
    ok += c.ok;
    if (!c.ok) ++stopped[StageName(c.stage)];
  }
  std::vector<std::string> st;
  st.reserve(stopped.size());
  for (const auto& [stage, n] : stopped) {
    st.push_back(absl::StrCat(Str(stage), ":", n));
  }
  std::vector<std::string> proxies;
  for (wire::Ipv4 p : report.proxies) proxies.push_back(Str(Ip(p)));
  out += absl::StrCat("{\"type\":\"summary\",\"source\":", Str(options.source),
                      ",\"frames\":", report.frames,
                      ",\"decode_errors\":", report.decode_errors,
                      ",\"first_time\":", Time(report.first_time),
                      ",\"last_time\":", Time(report.last_time),
                      ",\"clients\":", report.clients.size(),
                      ",\"reached_menu\":", reached, ",\"ok\":", ok,
                      ",\"stopped\":{", absl::StrJoin(st, ","),
                      "},\"proxies\":[", absl::StrJoin(proxies, ","),
                      "],\"text\":", Str(SummaryLine(report)), "}\n");
  return out;
}

}  // namespace capture
