// The proxyDHCP receive loop: receive, parse, call Respond, send, log, count.
#ifndef PXEPROXY_PROXYDHCP_SERVER_H_
#define PXEPROXY_PROXYDHCP_SERVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/interfaces.h"
#include "proxydhcp/packet_io.h"
#include "proxydhcp/respond.h"
#include "proxydhcp/uefi_history.h"
#include "wire/heartbeat.h"
#include "wire/log_limiter.h"

namespace metrics {
class Metrics;
}

namespace proxydhcp {

struct Counters {
  uint64_t received = 0;
  uint64_t replied = 0;
  uint64_t send_errors = 0;
  uint64_t receive_errors = 0;
  // Frames the kernel dropped before pxeproxy could read them (the receive
  // queue was full: a flood, or a burst deeper than the queue).
  uint64_t kernel_drops = 0;
  uint64_t netlink_resyncs = 0;  // full re-reads after lost notifications
  // Frames longer than a receive-ring slot (never decided on).
  uint64_t truncated = 0;
  // UEFI clients offered the other strategy after turning one down.
  uint64_t uefi_strategy_switches = 0;
  std::map<std::string, uint64_t> ignored;  // by reason name
};

class Server {
 public:
  // Opens the sockets; every named interface must exist (an interface without
  // IPv4 is accepted with a warning: its clients are ignored until one comes).
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const std::vector<std::string>& interfaces,
      const ResponderConfig& config);

  // Serves until `stop_fd` becomes readable (a signalfd or an eventfd).
  void Run(int stop_fd);
  const Counters& counters() const { return counters_; }
  // Reload (reload.h), from another thread: the loop takes `config` when it
  // next wakes, before the frames that woke it.
  void Reconfigure(const ResponderConfig& config);
  // Ticked every round of Run (the systemd watchdog, service.cc).
  const wire::Heartbeat& heartbeat() const { return heartbeat_; }
  // Where to report replies and ignores (metrics/pxeproxy_metrics.h); null:
  // nowhere. Set before Run.
  void set_metrics(metrics::Metrics* m) { metrics_ = m; }
  // From the TFTP thread: a read request from `address` (the adaptive UEFI
  // strategy's "reached TFTP"). Thread-safe; applied at the next round.
  void NoteTftpRequest(wire::Ipv4 address);

 private:
  struct Listener {
    std::string name;
    std::unique_ptr<PacketSocket> socket;
  };

  // Reply lines logged one by one each second; the rest are summed up.
  static constexpr uint32_t kReplyLogBurst = 50;

  explicit Server(const ResponderConfig& config) : config_(config) {}
  // Decide; a reply waits in pending_ for the end of the round.
  void HandleFrame(const Listener& l, absl::Span<const uint8_t> frame,
                   const ReceiveMeta& meta);
  // Sends the round's replies (sendmmsg), then counts and logs each.
  void FlushReplies(const Listener& l);
  // `received_at`: when its request was read (the latency histogram).
  void LogReply(const Listener& l, const Reply& reply, int error,
                std::chrono::steady_clock::time_point received_at);
  void LogReplySummary();
  void LogIgnore(const Listener& l, const Ignore& ig);
  void LogAddresses();
  void Rebind();
  // One listener's frames of this round (at most a batch), then its replies.
  void ServeListener(const Listener& l, short revents);
  // Netlink changes: the snapshot is current at once; the log line waits
  // until the changes settle (a burst of 4000 events is one line, not 4000).
  void OnNetlink();
  int PollTimeoutMs() const;
  void TakeConfig();

  // Adaptive UEFI strategy: the memory (this thread only) and what the
  // TFTP thread reported since the last frame.
  void UpdateUefiHistory(const Decision& d, int64_t now_ms);
  // Applies what the TFTP thread reported (NoteTftpRequest), once a round.
  void TakeTftpReached();
  UefiHistory uefi_history_;
  // TFTP clients seen lately and when (their REQUEST to the DHCP server,
  // which names their address, may be handled after their RRQ). Bounded.
  absl::flat_hash_map<wire::Ipv4, int64_t> recent_tftp_;
  absl::Mutex tftp_mu_;
  std::vector<wire::Ipv4> tftp_requests_ ABSL_GUARDED_BY(tftp_mu_);

  ResponderConfig config_;
  std::unique_ptr<InterfaceMonitor> monitor_;
  std::vector<Listener> listeners_;
  std::vector<sock_filter> filter_;
  std::unique_ptr<RawIpSender> raw_;
  std::unique_ptr<PortSink> sink_4011_;
  Counters counters_;
  std::map<std::string, std::string> logged_;  // last address line per iface
  // When the last netlink change arrived, while its log line is pending.
  std::optional<wire::LogLimiter::Clock::time_point> settle_since_;
  wire::LogLimiter log_limiter_;  // hostile input and send errors
  std::vector<Reply> outgoing_;   // decided this round, not yet sent
  std::vector<std::chrono::steady_clock::time_point> outgoing_at_;
  wire::LogLimiter reply_log_{std::chrono::seconds(1), kReplyLogBurst};
  bool reply_summary_due_ = false;
  wire::LogLimiter::Clock::time_point last_reply_summary_{};
  wire::Heartbeat heartbeat_;
  std::mutex pending_mu_;
  std::unique_ptr<ResponderConfig> pending_;  // from Reconfigure
  std::atomic<bool> has_pending_{false};
  metrics::Metrics* metrics_ = nullptr;
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_SERVER_H_
