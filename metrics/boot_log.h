// The daemon's boot log: correlates what the proxyDHCP and TFTP loops see of
// one machine (its offer, its port 4011 request, its TFTP transfer, its
// return as iPXE) and says in one line when it reached the iPXE menu, or
// where it stalled. Stages and finding ids are --diagnose's (capture::Stage,
// capture/finding_ids.h), so the daemon's line and a diagnosis of a capture
// of the same boot use the same words.
//
// Pure: events with their time in, log lines out; no clock, lock or logging
// (the shell, metrics/pxeproxy_metrics.cc, owns those). Memory is bounded:
// at most `max_clients` machines are tracked, the least recently active is
// forgotten first (a storm of forged MACs only evicts).
#ifndef PXEPROXY_METRICS_BOOT_LOG_H_
#define PXEPROXY_METRICS_BOOT_LOG_H_

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "capture/diagnosis.h"
#include "wire/addr.h"

namespace metrics {

// How a TFTP transfer ended (also the label of
// pxeproxy_tftp_transfers_failed_total).
enum class TransferEnd {
  kDone,
  kTimeout,      // retransmissions exhausted
  kClientError,  // the client sent ERROR
  kReplaced,     // a new request from the same port
  kEvicted,      // the server was full and its client never answered
  kStopped,      // the server stopped
  kReadError,    // the file changed or could not be read
};
const char* TransferEndName(TransferEnd e);
std::vector<TransferEnd> AllTransferFailures();

class BootLog {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    // A machine with no progress for this long is reported stalled (once).
    Clock::duration stall = std::chrono::seconds(30);
    size_t max_clients = 4096;
  };
  explicit BootLog(Options options) : options_(options) {}

  // A proxy reply on port 67 (OFFER, or ACK to an INFORM) to PXE firmware
  // or an HTTP Boot client: the start of a boot.
  void Offered(Clock::time_point now, const wire::MacAddr& mac, uint32_t xid,
               const char* arch, const std::string& file);
  // The ACK to a port 4011 request from `client_ip`.
  void BinlAnswered(Clock::time_point now, const wire::MacAddr& mac,
                    wire::Ipv4 client_ip, const char* arch,
                    const std::string& file);
  // A transfer from `client_ip` started, or was refused by reason name.
  void TransferStarted(Clock::time_point now, wire::Ipv4 client_ip,
                       const std::string& file);
  void TransferRefused(Clock::time_point now, wire::Ipv4 client_ip,
                       const std::string& file, const std::string& reason);
  // A transfer ended: `bytes` is the file's size, `acked_blocks` how far the
  // client acknowledged.
  void TransferEnded(Clock::time_point now, wire::Ipv4 client_ip,
                     const std::string& file, TransferEnd end, uint64_t bytes,
                     uint64_t acked_blocks, Clock::duration took);
  // The menu was offered to the machine, now running iPXE: the success line
  // (once per boot), nullopt when already told.
  std::optional<std::string> MenuOffered(Clock::time_point now,
                                         const wire::MacAddr& mac,
                                         const char* arch);
  // Lines for the machines that stalled since the last call.
  std::vector<std::string> Tick(Clock::time_point now);

  size_t size() const { return lru_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Client {
    wire::MacAddr mac{};
    std::string arch;
    uint32_t xid = 0;
    Clock::time_point start;  // the first offer of this boot
    Clock::time_point last;   // the latest progress
    capture::Stage stage = capture::Stage::kDiscover;
    int offers = 0;  // offers to the same xid (the firmware asked again)
    std::string offered_file;
    wire::Ipv4 ip = 0;
    std::optional<Clock::duration> binl_at;
    // The latest transfer: file, size, how long, and how it ended.
    std::string file;
    uint64_t bytes = 0;
    Clock::duration took{};
    std::optional<Clock::duration> file_at;
    std::string failure;    // a finding id (or refusal) while not resolved
    bool reported = false;  // the menu line or a stall line was written
  };
  using Lru = std::list<Client>;

  // The client's entry, made most recent; created (evicting the oldest if
  // full) when `create`.
  Client* Find(const wire::MacAddr& mac, bool create, Clock::time_point now);
  Client* ByIp(wire::Ipv4 ip, const std::string& file, Clock::time_point now);
  void SetIp(Client& c, wire::Ipv4 ip);
  // A new boot of the same machine: its history goes, its address stays.
  void Restart(Client& c, Clock::time_point now);
  void Touch(Lru::iterator it);
  std::string Describe(const Client& c) const;

  Options options_;
  Lru lru_;  // most recent first
  absl::flat_hash_map<wire::MacAddr, Lru::iterator> by_mac_;
  absl::flat_hash_map<wire::Ipv4, wire::MacAddr> by_ip_;
  uint64_t evicted_ = 0;
};

}  // namespace metrics

#endif  // PXEPROXY_METRICS_BOOT_LOG_H_
