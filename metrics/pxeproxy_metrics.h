// pxeproxy's metrics and boot log, the one object the serving loops report
// to (through a pointer, null when --metrics_address is not given and the
// boot log is off). Counters are lock-free atomics (metrics/registry.h); the
// boot log (metrics/boot_log.h) sits behind a mutex and is fed only on
// replies and transfer events, never on ignored packets.
#ifndef PXEPROXY_METRICS_PXEPROXY_METRICS_H_
#define PXEPROXY_METRICS_PXEPROXY_METRICS_H_

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "metrics/boot_log.h"
#include "metrics/registry.h"
#include "proxydhcp/respond.h"
#include "tftp/admit.h"

namespace metrics {

// The TFTP loop's running totals, published once per loop round.
struct TftpTotals {
  uint64_t requests = 0;
  uint64_t data_bytes = 0;
  uint64_t packets_sent = 0;
  uint64_t retransmits = 0;
  uint64_t send_errors = 0;
  uint64_t in_flight = 0;
  uint64_t receive_errors = 0;
};

class Metrics {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string version;
    // Names a completed transfer must have to count as "boot file sent".
    std::set<std::string> boot_files;
    bool boot_log = true;
    BootLog::Options boot_log_options;
    // Where boot log lines go (stall: a warning); default: glog.
    std::function<void(bool stall, const std::string& line)> log;
  };
  explicit Metrics(Options options);

  // --- the proxyDHCP loop ---
  void DhcpReceived() { dhcp_received_->Inc(); }
  void DhcpReceiveError() { dhcp_receive_errors_->Inc(); }
  void DhcpSendError() { dhcp_send_errors_->Inc(); }
  void DhcpIgnored(proxydhcp::IgnoreReason r);
  // A reply went out; `latency`: from receiving the request to the send.
  void DhcpReplied(const proxydhcp::Reply& reply, Clock::duration latency);

  // --- the TFTP loop ---
  // A request refused (answered with ERROR or dropped): `detail` is the
  // file name when the refusal is about the file.
  void TftpRefused(wire::Ipv4 client_ip, tftp::Reason reason,
                   const std::string& detail);
  // A packet that changed nothing.
  void TftpDropped(tftp::Reason reason) { tftp_ignored_.at(reason)->Inc(); }
  void TftpStarted(wire::Ipv4 client_ip, const std::string& file);
  void TftpEnded(wire::Ipv4 client_ip, const std::string& file, TransferEnd end,
                 uint64_t file_bytes, uint64_t acked_blocks,
                 Clock::duration took);
  void TftpSync(const TftpTotals& totals);

  // Writes the boot log's stall lines; call about once a second.
  void Tick() { Tick(Clock::now()); }
  void Tick(Clock::time_point now);

  std::string Render() const { return registry_.Render(); }
  const absl::Status& status() const { return registry_.status(); }

 private:
  // Every series is created here, at start (none appears on first use).
  void AddDhcpSeries();
  void AddTftpSeries();
  void AddBootSeries();
  void Log(bool stall, const std::string& line);
  void Stage(capture::Stage s);

  Options options_;
  Registry registry_;
  Counter* dhcp_received_;
  Counter* dhcp_receive_errors_;
  Counter* dhcp_send_errors_;
  std::map<proxydhcp::IgnoreReason, Counter*> dhcp_ignored_;
  // By message type (offer, ack) x BootArch x ClientKind.
  std::array<std::array<std::array<Counter*, 3>, 5>, 2> dhcp_replies_{};
  Histogram* dhcp_latency_;
  Counter* tftp_requests_;
  Counter* tftp_started_;
  Counter* tftp_completed_;
  std::map<TransferEnd, Counter*> tftp_failed_;
  std::map<tftp::Reason, Counter*> tftp_ignored_;
  Counter* tftp_bytes_;
  Counter* tftp_packets_;
  Counter* tftp_retransmits_;
  Counter* tftp_send_errors_;
  Counter* tftp_receive_errors_;
  Gauge* tftp_in_flight_;
  Histogram* tftp_duration_;
  std::map<capture::Stage, Counter*> stages_;
  Counter* boot_stalls_;
  Gauge* boot_tracked_;
  std::mutex mu_;  // guards boot_log_
  BootLog boot_log_;
};

}  // namespace metrics

#endif  // PXEPROXY_METRICS_PXEPROXY_METRICS_H_
