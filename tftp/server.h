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
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "tftp/config.h"
#include "tftp/file_cache.h"
#include "tftp/options.h"
#include "tftp/packet.h"
#include "tftp/path.h"
#include "tftp/session.h"
#include "tftp/udp.h"

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
  std::map<std::string, uint64_t> refused;  // requests answered with ERROR
  std::map<std::string, uint64_t> dropped;  // packets that changed nothing
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

 private:
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
    std::shared_ptr<const FileData> data;
    std::vector<uint8_t> oack;
    Negotiated options;
    Session session;
    Clock::time_point started;
    Clock::time_point deadline;
    uint64_t retransmits = 0;
    bool gso = false;  // windows go out as one UDP_SEGMENT send
  };

  explicit Server(const Config& config, PathPolicy policy);
  void OnServerReadable();
  void OnRequest(const Datagram& d, absl::Span<const uint8_t> packet);
  void StartTransfer(const Datagram& d, const Request& req);
  void AddTransfer(const Datagram& d, const std::string& filename, int fd,
                   std::shared_ptr<const FileData> data, Negotiated neg,
                   int mtu);
  bool OpenFile(const Datagram& d, const Request& req, Mode mode,
                std::shared_ptr<const FileData>* data);
  std::shared_ptr<const FileData> Netascii(
      const std::shared_ptr<const FileData>& octets);
  void OnTransferReadable(uint64_t id);
  void OnPeerPacket(Transfer& t, absl::Span<const uint8_t> packet);
  void OnTimers();
  void Apply(Transfer& t, const Action& a);
  // False when the file could not be read: the transfer is then finished
  // and `t` destroyed.
  bool SendData(Transfer& t, uint64_t first, uint64_t last);
  int SendChunk(Transfer& t, const iovec* iov, int count);
  void ArmTimer(Transfer& t);
  bool TimerLive(const TimerEntry& e) const;
  void CompactTimers();
  void Finish(Transfer& t, bool ok, const std::string& how);
  // Answers ERROR `code` with `text`, counts `reason`, logs `detail` at
  // VLOG(1): hostile input is not an error of ours (STYLE.md).
  void Refuse(int fd, const Datagram& d, ErrorCode code,
              const std::string& reason, const std::string& text,
              const std::string& detail);
  // Counts `reason` and logs at VLOG(1), sending nothing.
  void Drop(const Datagram& d, const std::string& reason,
            const std::string& filename);
  void SendError(int fd, const Endpoint& to, wire::Ipv4 local, ErrorCode code,
                 const std::string& text);
  int EpollTimeoutMs() const;

  Config config_;
  PathPolicy policy_;
  FileCache cache_;
  absl::flat_hash_map<std::string, std::shared_ptr<const FileData>> virtual_;
  int epoll_fd_ = -1;
  int server_fd_ = -1;
  uint16_t port_ = 0;
  uint64_t next_id_ = 16;
  struct NetasciiEntry {
    std::shared_ptr<const FileData> octets;
    std::weak_ptr<const FileData> converted;
  };
  absl::flat_hash_map<const FileData*, NetasciiEntry> netascii_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  absl::flat_hash_map<Endpoint, uint64_t> by_peer_;
  // Deadlines in a min-heap with lazy deletion: re-arming pushes a new
  // entry and leaves the old one, skipped when it comes up because the
  // transfer's deadline moved (no search, no allocation per ACK).
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>>
      timers_;
  std::vector<uint8_t> buf_;  // receive buffer; parsers copy what they keep
  // DATA payload of files read per window, reused by every send: at most
  // one batch (64 blocks) at a time.
  std::vector<uint8_t> read_buf_;
  Counters counters_;
  bool gso_works_ = true;  // cleared when the kernel refuses UDP_SEGMENT
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_SERVER_H_
