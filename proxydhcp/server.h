// The proxyDHCP receive loop: receive, parse, call Respond, send, log, count.
#ifndef PXEPROXY_PROXYDHCP_SERVER_H_
#define PXEPROXY_PROXYDHCP_SERVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/interfaces.h"
#include "proxydhcp/packet_io.h"
#include "proxydhcp/respond.h"
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
  // Where to report replies and ignores (metrics/pxeproxy_metrics.h); null:
  // nowhere. Set before Run.
  void set_metrics(metrics::Metrics* m) { metrics_ = m; }

 private:
  struct Listener {
    std::string name;
    std::unique_ptr<PacketSocket> socket;
  };

  explicit Server(const ResponderConfig& config) : config_(config) {}
  // Decide, then send what it built, count and log.
  void HandleFrame(const Listener& l, absl::Span<const uint8_t> frame,
                   const ReceiveMeta& meta);
  void LogIgnore(const Listener& l, const Ignore& ig);
  void LogAddresses();
  void Rebind();
  // Netlink changes: the snapshot is current at once; the log line waits
  // until the changes settle (a burst of 4000 events is one line, not 4000).
  void OnNetlink();
  int PollTimeoutMs() const;

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
  metrics::Metrics* metrics_ = nullptr;
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_SERVER_H_
