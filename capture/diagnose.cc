#include "capture/diagnose.h"

#include <poll.h>
#include <sys/stat.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "capture/describe.h"
#include "capture/pcap_source.h"
#include "capture/render.h"
#include "capture/timeline.h"

namespace capture {
namespace {

DiagnoseResult Render(const Report& report, const DiagnoseOptions& options,
                      absl::Status error) {
  RenderOptions render{
      options.source_name.empty() ? options.target : options.source_name,
      options.color && !options.json};
  return {
      options.json ? RenderJson(report, render) : RenderText(report, render),
      std::move(error)};
}

// The live feed on `progress`: each new event of a boot client, one line.
void PrintNews(const Timeline& t, std::vector<size_t>& printed,
               std::ostream& progress) {
  printed.resize(t.clients.size(), 0);
  for (size_t i = 0; i < t.clients.size(); ++i) {
    const ClientTimeline& c = t.clients[i];
    for (; c.boot_client && printed[i] < c.events.size(); ++printed[i]) {
      const Event& e = c.events[printed[i]];
      progress << absl::FormatTime("%H:%M:%E3S", e.time, absl::UTCTimeZone())
               << "  " << wire::FormatMac(c.mac) << "  #" << e.number << "  "
               << DescribeEvent(c, e) << "\n";
    }
  }
  progress.flush();
}

}  // namespace

absl::Status Drain(PcapSource& source, TimelineBuilder& builder, int* seen,
                   int max_frames, bool* more) {
  Frame frame;
  *more = false;
  for (int n = 0; n < max_frames; ++n) {
    absl::StatusOr<bool> got = source.Next(&frame);
    if (!got.ok()) return got.status();
    if (!*got) return absl::OkStatus();
    builder.Add(frame);
    ++*seen;
  }
  *more = true;
  return absl::OkStatus();
}

bool IsCaptureFile(const std::string& target) {
  struct stat st;
  return target == "-" || (stat(target.c_str(), &st) == 0 &&
                           (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)));
}

absl::StatusOr<Report> AnalyzeFile(const std::string& path,
                                   const AnalyzerConfig& config,
                                   absl::Status* read_error) {
  absl::StatusOr<std::unique_ptr<PcapSource>> source =
      PcapSource::OpenFile(path);
  if (!source.ok()) return source.status();
  TimelineBuilder builder((*source)->link(), config);
  Frame frame;
  for (;;) {
    absl::StatusOr<bool> got = (*source)->Next(&frame);
    if (!got.ok()) {
      *read_error = got.status();
      break;
    }
    if (!*got) break;
    builder.Add(frame);
  }
  return Diagnose(std::move(builder).Finish(), config);
}

absl::StatusOr<DiagnoseResult> DiagnoseFile(
    const DiagnoseOptions& options, const proxydhcp::ResponderConfig& config) {
  absl::Status error;
  absl::StatusOr<Report> report =
      AnalyzeFile(options.target, AnalyzerConfig{config, {}}, &error);
  if (!report.ok()) return report.status();
  return Render(*report, options, std::move(error));
}

absl::StatusOr<DiagnoseResult> DiagnoseLive(
    const DiagnoseOptions& options, const proxydhcp::ResponderConfig& config,
    int stop_fd, std::ostream& progress) {
  absl::StatusOr<std::unique_ptr<PcapSource>> source =
      PcapSource::OpenLive(options.target, options.write_file);
  if (!source.ok()) return source.status();
  std::vector<proxydhcp::IfAddr> self = InterfaceIpv4(options.target);
  AnalyzerConfig analyzer{config, self};
  TimelineBuilder builder((*source)->link(), analyzer);
  progress << "watching " << options.target << " ("
           << (self.empty()
                   ? "no IPv4 address"
                   : absl::StrJoin(
                         self, ", ",
                         [](std::string* out, const proxydhcp::IfAddr& a) {
                           absl::StrAppend(out, wire::FormatIpv4(a.ip));
                         }))
           << ") for DHCP, PXE 4011, TFTP and HTTP requests; "
           << (options.seconds > 0
                   ? absl::StrCat("for ", options.seconds, " s or ")
                   : "")
           << "Ctrl-C to stop" << std::endl;
  const absl::Time deadline = options.seconds > 0
                                  ? absl::Now() + absl::Seconds(options.seconds)
                                  : absl::InfiniteFuture();
  int seen = 0;
  std::vector<size_t> printed;  // events of each client already shown
  absl::Status error;
  bool more = false;  // the last Drain stopped with frames still pending
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd fds[2] = {{(*source)->selectable_fd(), POLLIN, 0},
                     {stop_fd, POLLIN, 0}};
    int wait_ms = more ? 0
                       : static_cast<int>(std::min<int64_t>(
                             absl::ToInt64Milliseconds(left) + 1, 200));
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) break;
    error = Drain(**source, builder, &seen, kDrainBatch, &more);
    PrintNews(builder.sofar(), printed, progress);
    if (!error.ok() || (fds[1].revents & POLLIN) != 0) break;
  }
  (*source)->Flush();
  progress << "stopped after " << seen << " frames" << std::endl;
  return Render(Diagnose(std::move(builder).Finish(), analyzer), options,
                std::move(error));
}

int RunDiagnose(const DiagnoseOptions& options,
                const proxydhcp::ResponderConfig& config, int stop_fd) {
  absl::StatusOr<DiagnoseResult> result =
      IsCaptureFile(options.target)
          ? DiagnoseFile(options, config)
          : DiagnoseLive(options, config, stop_fd, std::cerr);
  if (!result.ok()) {
    std::cerr << "pxeproxy: " << result.status().message() << "\n";
    return 1;
  }
  std::cout << result->output << std::flush;
  if (!result->read_error.ok()) {
    std::cerr << "pxeproxy: " << result->read_error.message()
              << "; the report above covers the frames before it\n";
    return 1;
  }
  return 0;
}

}  // namespace capture
