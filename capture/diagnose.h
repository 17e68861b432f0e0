// `pxeproxy --diagnose`: explain network boots from a capture file or a live
// interface. The composition of the pcap shell with the pure core.
#ifndef PXEPROXY_CAPTURE_DIAGNOSE_H_
#define PXEPROXY_CAPTURE_DIAGNOSE_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "capture/diagnosis.h"
#include "capture/pcap_source.h"
#include "capture/timeline.h"
#include "proxydhcp/respond.h"

namespace capture {

struct DiagnoseOptions {
  std::string target;      // an interface, or a capture file when one exists
  int seconds = 0;         // live: stop after this long; 0: at Ctrl-C only
  std::string write_file;  // live: save the frames seen (pcap)
  bool json = false;
  bool color = false;       // text on a terminal
  std::string source_name;  // shown in the output; default: target
};

// True when `target` names an existing regular file or a pipe, or is "-"
// (standard input): then it is read offline; otherwise it is an interface.
bool IsCaptureFile(const std::string& target);

struct DiagnoseResult {
  std::string output;  // the rendered report
  // A capture that breaks off (truncated, corrupt record) still yields the
  // report of the frames before the damage; this says where it broke.
  absl::Status read_error;
};

// The report on a capture file. `read_error` receives where a damaged file
// broke off (the report covers the frames before it).
absl::StatusOr<Report> AnalyzeFile(const std::string& path,
                                   const AnalyzerConfig& config,
                                   absl::Status* read_error);

absl::StatusOr<DiagnoseResult> DiagnoseFile(
    const DiagnoseOptions& options, const proxydhcp::ResponderConfig& config);
// Runs until `stop_fd` is readable (a signalfd) or options.seconds pass.
absl::StatusOr<DiagnoseResult> DiagnoseLive(
    const DiagnoseOptions& options, const proxydhcp::ResponderConfig& config,
    int stop_fd, std::ostream& progress);

// Reads at most `max_frames` frames pending on a live `source` into
// `builder`, so that a busy link still lets the caller check Ctrl-C and the
// deadline between calls; `*more` says it stopped at the limit.
constexpr int kDrainBatch = 1000;
absl::Status Drain(PcapSource& source, TimelineBuilder& builder, int* seen,
                   int max_frames, bool* more);

// The whole mode: prints the report on stdout, errors on stderr; returns the
// process exit code (0 done, 1 capture error).
int RunDiagnose(const DiagnoseOptions& options,
                const proxydhcp::ResponderConfig& config, int stop_fd);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DIAGNOSE_H_
