// The TFTP shell: one epoll loop serving every transfer, each with its own
// socket (a fresh port, the TID of RFC 1350) and a deadline in one ordered
// timer set, so a thousand transfers need no thread and no timerfd each.
// It receives, calls the pure core (packet, options, path, session), sends,
// logs and counts.
#ifndef PXEPROXY_TFTP_SERVER_H_
#define PXEPROXY_TFTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "metrics/boot_log.h"
#include "tftp/admit.h"
#include "tftp/config.h"
#include "tftp/file_cache.h"
#include "tftp/netascii.h"
#include "tftp/options.h"
#include "tftp/path.h"
#include "tftp/session.h"
#include "tftp/udp.h"
#include "wire/heartbeat.h"
#include "wire/log_limiter.h"
#include "wire/tftp_packet.h"

namespace metrics {
class Metrics;
}

namespace tftp {

struct Counters {
  uint64_t requests = 0;  // RRQs and WRQs received
  uint64_t transfers_started = 0;
  uint64_t transfers_done = 0;    // last block acknowledged
  uint64_t transfers_failed = 0;  // retries exhausted or client ERROR
  uint64_t data_bytes = 0;        // DATA payload bytes sent, retransmits too
  uint64_t packets_sent = 0;
  uint64_t retransmits = 0;
  uint64_t send_errors = 0;
  // Receives that failed for another reason than an empty queue.
  uint64_t receive_errors = 0;
  // Requests the kernel dropped on port 69 before we read them (its queue
  // was full), as of the last request read (SO_RXQ_OVFL).
  uint64_t kernel_drops = 0;
  // By ReasonName: requests answered with ERROR, packets that changed
  // nothing.
  std::map<std::string, uint64_t> refused;
  std::map<std::string, uint64_t> dropped;
};

class Server {
 public:
  // Binds the port and checks the root; errors name what failed.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until `stop_fd` becomes readable (an eventfd or a signalfd).
  void Run(int stop_fd);
  const Counters& counters() const { return counters_; }
  FileCacheStats cache_stats() const { return cache_.stats(); }
  uint16_t port() const { return port_; }
  // Reload (reload.h), from another thread: when the loop next wakes, new
  // requests get the limits (sessions, blksize, windowsize) and virtual
  // files of `config`; transfers in flight keep what they negotiated. The
  // root, port and interfaces stay those of Create.
  void Reconfigure(const Config& config);
  // Ticked every round of Run (the systemd watchdog, service.cc).
  const wire::Heartbeat& heartbeat() const { return heartbeat_; }
  // Where to report transfers and refusals (metrics/pxeproxy_metrics.h);
  // null: nowhere. Set before Run.
  void set_metrics(metrics::Metrics* m) { metrics_ = m; }

 private:
  using VirtualFiles =
      absl::flat_hash_map<std::string, std::shared_ptr<const FileData>>;
  // server_config.cc: the virtual files by normalized name, and room in
  // RLIMIT_NOFILE for max_sessions transfers.
  static absl::StatusOr<VirtualFiles> LoadVirtualFiles(const Config& config);
  static void RaiseFileLimit(int max_sessions);
  using Clock = std::chrono::steady_clock;
  using TimerEntry = std::pair<Clock::time_point, uint64_t>;
  struct Transfer {
    explicit Transfer(const SessionParams& p) : session(p) {}
    uint64_t id = 0;
    int fd = -1;
    bool own_fd = false;
    Endpoint peer;
    wire::Ipv4 local = 0;
    std::string filename;
    wire::TftpMode mode = wire::TftpMode::kOctet;
    std::shared_ptr<const FileData> data;
    NetasciiBlocks netascii;  // netascii: where each unacked block starts
    std::vector<uint8_t> oack;
    Negotiated options;
    Session session;
    Clock::time_point started;
    Clock::time_point deadline;
    uint64_t retransmits = 0;
    bool gso = false;  // windows go out as one UDP_SEGMENT send
  };

  class Lookup;
  explicit Server(const Config& config, PathPolicy policy);
  void OnServerReadable();
  // The next datagram on `fd` into buf_; nullopt when none is left or the
  // receive failed (then counted and logged).
  std::optional<Datagram> Read(int fd);
  // False when the datagram came in on an interface we do not serve.
  bool Served(const Datagram& d);
  int Mtu(int ifindex);
  void OnRequest(const Datagram& d, absl::Span<const uint8_t> packet);
  // What Admit needs to know of the running transfers; `same_port`: the id
  // of the transfer from the request's address and port, or 0.
  Occupancy OccupancyFor(const Datagram& d, uint64_t same_port) const;
  // An admitted request: ends what it replaces or evicts, opens its socket.
  void Start(const Datagram& d, Plan plan, uint64_t same_port);
  void AddTransfer(const Datagram& d, int fd, Plan plan);
  void OnTransferReadable(uint64_t id);
  void OnPeerPacket(Transfer& t, absl::Span<const uint8_t> packet);
  void OnTimers();
  void Apply(Transfer& t, const Action& a);
  // False when the file could not be read: the transfer is then finished
  // and `t` destroyed.
  bool SendData(Transfer& t, uint64_t first, uint64_t last);
  // The payload of blocks first..last (one batch) into `out`: views of the
  // file, or netascii converted into encode_buf_. Returns how many blocks
  // (fewer when netascii reaches the end).
  absl::StatusOr<int> ReadBatch(Transfer& t, uint64_t first, uint64_t last,
                                absl::Span<const uint8_t>* out);
  absl::StatusOr<int> EncodeBatch(Transfer& t, uint64_t first, uint64_t last,
                                  absl::Span<const uint8_t>* out);
  int SendChunk(Transfer& t, const iovec* iov, int count);
  void ArmTimer(Transfer& t);
  bool TimerLive(const TimerEntry& e) const;
  void CompactTimers();
  void Finish(Transfer& t, metrics::TransferEnd end, const std::string& how);
  // Counts the refusal by its reason, logs it at VLOG(1) (hostile input is
  // not an error in the log), at most one line per reason per
  // interval, and answers ERROR when it says so.
  void Refuse(const Datagram& d, const Refusal& r);
  // Counts a dropped packet by reason, nothing logged.
  void Count(Reason r);
  // nullopt: stay silent; else the " (N more suppressed)" suffix.
  std::optional<std::string> LogSlot(const std::string& key);
  void SendError(int fd, const Endpoint& to, wire::Ipv4 local,
                 wire::TftpErrorCode code, const std::string& text);
  int EpollTimeoutMs() const;
  // EpollTimeoutMs, shortened to the end of the stop grace once stopping.
  int RunTimeoutMs() const;
  // The stop signal: no new transfer, the running ones get their grace.
  void OnStopSignal(int stop_fd);
  // Ends what the grace left running and logs the totals.
  void FinishAll();
  void TakeConfig();

  Config config_;
  PathPolicy policy_;
  FileCache cache_;
  VirtualFiles virtual_;
  int epoll_fd_ = -1;
  int server_fd_ = -1;
  uint16_t port_ = 0;
  uint64_t next_id_ = 16;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  // The most transfers at once since the server was last idle; past
  // kTrimAfter, the heap is trimmed when the last one ends.
  size_t peak_transfers_ = 0;
  static constexpr size_t kTrimAfter = 64;
  absl::flat_hash_map<Endpoint, uint64_t> by_peer_;
  absl::flat_hash_map<wire::Ipv4, size_t> per_host_;  // transfers per address
  // Transfers whose client has acknowledged nothing yet, oldest (lowest id)
  // first: a full server ends the oldest of them, once it is a second old,
  // to make room (Occupancy::evictable).
  std::set<uint64_t> unheard_;
  // Set on the stop signal: until then (or until no transfer is left) the
  // loop serves what is in flight and starts nothing new.
  std::optional<Clock::time_point> stop_deadline_;
  // Indexes of the served interfaces, looked up by name again (at most
  // once a second) when a datagram comes from an index not in the set.
  absl::flat_hash_set<int> served_;
  Clock::time_point served_lookup_;
  struct MtuEntry {
    int mtu = 0;
    Clock::time_point at;
  };
  absl::flat_hash_map<int, MtuEntry> mtu_;  // by ifindex, a second at most
  wire::LogLimiter log_limit_;
  // Deadlines in a min-heap with lazy deletion: re-arming pushes a new
  // entry and leaves the old one, skipped when it comes up because the
  // transfer's deadline moved (no search, no allocation per ACK).
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>>
      timers_;
  std::vector<uint8_t> buf_;  // receive buffer; parsers copy what they keep
  // DATA payload of files read per window, reused by every send: at most
  // one batch (64 blocks) at a time.
  std::vector<uint8_t> read_buf_;
  std::string encode_buf_;  // one batch of netascii blocks
  Counters counters_;
  bool gso_works_ = true;    // cleared when the kernel cannot UDP_SEGMENT
  bool gso_worked_ = false;  // a GSO send succeeded
  wire::Heartbeat heartbeat_;
  std::mutex pending_mu_;
  std::unique_ptr<Config> pending_;  // from Reconfigure
  std::atomic<bool> has_pending_{false};
  metrics::Metrics* metrics_ = nullptr;
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_SERVER_H_
