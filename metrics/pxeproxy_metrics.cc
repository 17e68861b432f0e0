#include "metrics/pxeproxy_metrics.h"

#include "glog/logging.h"
#include "proxydhcp/pxe.h"

namespace metrics {
namespace {

using proxydhcp::BootArch;
using proxydhcp::ClientKind;

constexpr BootArch kArches[] = {BootArch::kBios, BootArch::kEfiIa32,
                                BootArch::kEfiX64, BootArch::kEfiArm64,
                                BootArch::kUnsupported};
constexpr ClientKind kKinds[] = {ClientKind::kPxe, ClientKind::kHttpBoot,
                                 ClientKind::kIpxe};
constexpr const char* kTypes[] = {"offer", "ack"};
constexpr capture::Stage kStages[] = {
    capture::Stage::kOffered, capture::Stage::kBinl, capture::Stage::kBootFile,
    capture::Stage::kMenuOffered};

size_t ArchIndex(uint16_t arch) {
  BootArch a = proxydhcp::BootArchOf(arch);
  for (size_t i = 0; i < 5; ++i) {
    if (kArches[i] == a) return i;
  }
  return 4;
}

size_t KindIndex(ClientKind k) {
  return k == ClientKind::kPxe ? 0 : k == ClientKind::kHttpBoot ? 1 : 2;
}

}  // namespace

Metrics::Metrics(Options options)
    : options_(std::move(options)), boot_log_(options_.boot_log_options) {
  Registry& r = registry_;
  r.AddGauge("pxeproxy_build_info",
             "pxeproxy's version; the value is always 1.",
             {{"version", options_.version}})
      ->Set(1);
  r.AddGauge("pxeproxy_start_time_seconds",
             "When the daemon started, in seconds since the Unix epoch.")
      ->Set(std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count());
  AddDhcpSeries();
  AddTftpSeries();
  AddBootSeries();
}

void Metrics::AddDhcpSeries() {
  Registry& r = registry_;
  dhcp_received_ = r.AddCounter(
      "pxeproxy_dhcp_received_total",
      "DHCP frames received on ports 67 and 4011 (the BPF filter's match).");
  dhcp_receive_errors_ = r.AddCounter("pxeproxy_dhcp_receive_errors_total",
                                      "Errors reading the proxyDHCP sockets.");
  dhcp_send_errors_ = r.AddCounter("pxeproxy_dhcp_send_errors_total",
                                   "proxyDHCP replies the kernel refused.");
  for (size_t t = 0; t < 2; ++t) {
    for (size_t a = 0; a < 5; ++a) {
      for (size_t k = 0; k < 3; ++k) {
        dhcp_replies_[t][a][k] = r.AddCounter(
            "pxeproxy_dhcp_replies_total",
            "proxyDHCP replies sent, by message type, client architecture "
            "(the boot file class) and client kind.",
            {{"type", kTypes[t]},
             {"arch", proxydhcp::BootArchName(kArches[a])},
             {"kind", proxydhcp::ClientKindName(kKinds[k])}});
      }
    }
  }
  for (proxydhcp::IgnoreReason reason : proxydhcp::AllIgnoreReasons()) {
    dhcp_ignored_[reason] = r.AddCounter(
        "pxeproxy_dhcp_ignored_total",
        "DHCP frames not answered, by reason (README, What pxeproxy "
        "refuses).",
        {{"reason", proxydhcp::IgnoreReasonName(reason)}});
  }
  dhcp_latency_ =
      r.AddHistogram("pxeproxy_dhcp_reply_latency_seconds",
                     "From receiving a request to sending its reply.",
                     {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                      0.01, 0.025, 0.1});
}

void Metrics::AddTftpSeries() {
  Registry& r = registry_;
  tftp_requests_ = r.AddCounter("pxeproxy_tftp_requests_total",
                                "TFTP read and write requests received.");
  tftp_started_ = r.AddCounter("pxeproxy_tftp_transfers_started_total",
                               "TFTP transfers started.");
  tftp_completed_ =
      r.AddCounter("pxeproxy_tftp_transfers_completed_total",
                   "TFTP transfers whose last block was acknowledged.");
  for (TransferEnd e : AllTransferFailures()) {
    tftp_failed_[e] = r.AddCounter(
        "pxeproxy_tftp_transfers_failed_total",
        "TFTP transfers that ended without their last block acknowledged, "
        "by reason (client_error includes PXE ROMs that abort after reading "
        "tsize, on purpose).",
        {{"reason", TransferEndName(e)}});
  }
  for (tftp::Reason reason : tftp::AllReasons()) {
    tftp_ignored_[reason] = r.AddCounter(
        "pxeproxy_tftp_ignored_total",
        "TFTP packets refused (with an ERROR or dropped) or that changed "
        "nothing, by reason (README, What pxeproxy refuses).",
        {{"reason", tftp::ReasonName(reason)}});
  }
  tftp_bytes_ =
      r.AddCounter("pxeproxy_tftp_sent_bytes_total",
                   "TFTP DATA payload bytes sent, retransmissions included.");
  tftp_packets_ =
      r.AddCounter("pxeproxy_tftp_sent_packets_total", "TFTP packets sent.");
  tftp_retransmits_ = r.AddCounter("pxeproxy_tftp_retransmissions_total",
                                   "TFTP packets sent again after a timeout "
                                   "or a repeated request.");
  tftp_receive_errors_ =
      r.AddCounter("pxeproxy_tftp_receive_errors_total",
                   "Errors reading the TFTP sockets (an empty queue is none).");
  tftp_send_errors_ = r.AddCounter("pxeproxy_tftp_send_errors_total",
                                   "TFTP packets the kernel refused.");
  tftp_in_flight_ = r.AddGauge("pxeproxy_tftp_transfers_in_flight",
                               "TFTP transfers in progress.");
  tftp_duration_ = r.AddHistogram(
      "pxeproxy_tftp_transfer_duration_seconds",
      "How long completed TFTP transfers took.",
      {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
}

void Metrics::AddBootSeries() {
  Registry& r = registry_;
  for (capture::Stage s : kStages) {
    stages_[s] = r.AddCounter(
        "pxeproxy_boot_stage_total",
        "Boot stages reached, by --diagnose's stage names: offered (a proxy "
        "offer to PXE or HTTP Boot firmware), binl (a port 4011 request "
        "answered), boot_file (a configured boot file fully sent), "
        "menu_offered (iPXE offered the menu). A firmware that asks twice "
        "counts twice.",
        {{"stage", capture::StageName(s)}});
  }
  boot_stalls_ = r.AddCounter(
      "pxeproxy_boot_stalls_total",
      "Boots the boot log reported stalled (--boot_stall_seconds).");
  boot_tracked_ = r.AddGauge("pxeproxy_boot_log_clients",
                             "Machines the boot log is following.");
}

void Metrics::Log(bool stall, const std::string& line) {
  if (options_.log) {
    options_.log(stall, line);
  } else if (stall) {
    LOG(WARNING) << line;
  } else {
    LOG(INFO) << line;
  }
}

void Metrics::Stage(capture::Stage s) { stages_.at(s)->Inc(); }

void Metrics::DhcpIgnored(proxydhcp::IgnoreReason r) {
  dhcp_ignored_.at(r)->Inc();
}

void Metrics::DhcpReplied(const proxydhcp::Reply& reply,
                          Clock::duration latency) {
  const uint8_t type = reply.message.message_type().value_or(0);
  const size_t t = type == wire::kAck ? 1 : 0;
  dhcp_replies_[t][ArchIndex(reply.client.arch)][KindIndex(reply.client.kind)]
      ->Inc();
  dhcp_latency_->Observe(std::chrono::duration<double>(latency).count());
  const bool binl = reply.src_port == proxydhcp::kPxeBinlPort;
  const bool ipxe = reply.client.kind == ClientKind::kIpxe;
  Stage(ipxe   ? capture::Stage::kMenuOffered
        : binl ? capture::Stage::kBinl
               : capture::Stage::kOffered);
  if (!options_.boot_log) return;
  const Clock::time_point now = Clock::now();
  const char* arch = proxydhcp::ArchName(reply.client.arch);
  std::optional<std::string> line;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ipxe) {
      line = boot_log_.MenuOffered(now, reply.message.mac(), arch);
    } else if (binl) {
      boot_log_.BinlAnswered(now, reply.message.mac(), reply.dst_ip, arch,
                             reply.boot_file);
    } else {
      boot_log_.Offered(now, reply.message.mac(), reply.message.xid, arch,
                        reply.boot_file);
    }
  }
  if (line) Log(false, *line);
}

void Metrics::TftpRefused(wire::Ipv4 client_ip, tftp::Reason reason,
                          const std::string& detail) {
  tftp_ignored_.at(reason)->Inc();
  if (!options_.boot_log) return;
  if (reason != tftp::Reason::kNotFound && reason != tftp::Reason::kAccess &&
      reason != tftp::Reason::kUnreadable) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  boot_log_.TransferRefused(Clock::now(), client_ip, detail,
                            tftp::ReasonName(reason));
}

void Metrics::TftpStarted(wire::Ipv4 client_ip, const std::string& file) {
  tftp_started_->Inc();
  if (!options_.boot_log) return;
  std::lock_guard<std::mutex> lock(mu_);
  boot_log_.TransferStarted(Clock::now(), client_ip, file);
}

void Metrics::TftpEnded(wire::Ipv4 client_ip, const std::string& file,
                        TransferEnd end, uint64_t file_bytes,
                        uint64_t acked_blocks, Clock::duration took) {
  if (end == TransferEnd::kDone) {
    tftp_completed_->Inc();
    tftp_duration_->Observe(std::chrono::duration<double>(took).count());
    if (options_.boot_files.count(file)) Stage(capture::Stage::kBootFile);
  } else {
    tftp_failed_.at(end)->Inc();
  }
  if (!options_.boot_log) return;
  std::lock_guard<std::mutex> lock(mu_);
  boot_log_.TransferEnded(Clock::now(), client_ip, file, end, file_bytes,
                          acked_blocks, took);
}

void Metrics::TftpSync(const TftpTotals& t) {
  tftp_requests_->Set(t.requests);
  tftp_bytes_->Set(t.data_bytes);
  tftp_packets_->Set(t.packets_sent);
  tftp_retransmits_->Set(t.retransmits);
  tftp_send_errors_->Set(t.send_errors);
  tftp_receive_errors_->Set(t.receive_errors);
  tftp_in_flight_->Set(static_cast<int64_t>(t.in_flight));
}

void Metrics::Tick(Clock::time_point now) {
  if (!options_.boot_log) return;
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lines = boot_log_.Tick(now);
    boot_tracked_->Set(static_cast<int64_t>(boot_log_.size()));
  }
  for (const std::string& line : lines) {
    boot_stalls_->Inc();
    Log(true, line);
  }
}

}  // namespace metrics
