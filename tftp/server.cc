#include "tftp/server.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "metrics/pxeproxy_metrics.h"
#include "tftp/gso.h"
#include "tftp/options.h"

namespace tftp {
namespace {

constexpr uint64_t kStopId = 1;
constexpr uint64_t kServerId = 2;
constexpr int kMaxBatch = 64;  // datagrams per sendmmsg call

// Each transfer owns a socket; make sure max_sessions of them fit.
void RaiseFileLimit(int max_sessions) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  // A transfer of a file too large to cache also holds the file open.
  rlim_t want = 2 * static_cast<rlim_t>(max_sessions) + 64;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    LOG(WARNING) << "tftp: open-file limit " << rl.rlim_cur
                 << " is below 2 x --tftp_max_sessions + 64; transfers past it "
                    "are refused";
  }
}

std::string FormatCounts(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) absl::StrAppend(&out, " ", name, "=", n);
  return out.empty() ? " none" : out;
}

using VirtualFiles =
    absl::flat_hash_map<std::string, std::shared_ptr<const FileData>>;

absl::StatusOr<VirtualFiles> LoadVirtualFiles(const Config& config) {
  VirtualFiles files;
  for (const auto& [name, text] : config.virtual_files) {
    Normalized n;
    NameRefusal why;
    if (!NormalizeName(name, &n, &why)) {
      return absl::InvalidArgumentError(
          absl::StrCat("virtual file '", name, "': ", why.reason));
    }
    files[n.relative] = MakeFileData(text);
  }
  return files;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Config& config) {
  absl::StatusOr<PathPolicy> policy =
      PathPolicy::Create(config.root, config.symlink_allow);
  if (!policy.ok()) return policy.status();
  std::unique_ptr<Server> s(new Server(config, std::move(*policy)));
  absl::StatusOr<VirtualFiles> files = LoadVirtualFiles(config);
  if (!files.ok()) return files.status();
  s->virtual_ = std::move(*files);
  absl::StatusOr<int> fd = OpenServerSocket(config.port);
  if (!fd.ok()) {
    return absl::Status(
        fd.status().code(),
        absl::StrCat("tftp: ", fd.status().message(),
                     " (is another TFTP server running? --notftp leaves "
                     "TFTP to it, --tftp_port picks another port)"));
  }
  s->server_fd_ = *fd;
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(s->server_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  s->port_ = ntohs(sa.sin_port);
  s->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (s->epoll_fd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll: ", strerror(errno)));
  }
  epoll_event ev{EPOLLIN, {.u64 = kServerId}};
  epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->server_fd_, &ev);
  RaiseFileLimit(config.max_sessions);
  return s;
}

Server::Server(const Config& config, PathPolicy policy)
    : config_(config),
      policy_(std::move(policy)),
      cache_(config.cache_bytes, config.max_cached_file_bytes),
      buf_(65536) {}

Server::~Server() {
  for (auto& [id, t] : transfers_) {
    if (t->own_fd) close(t->fd);
  }
  if (server_fd_ >= 0) close(server_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Server::Run(int stop_fd) {
  epoll_event ev{EPOLLIN, {.u64 = kStopId}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd, &ev);
  LOG(INFO) << "tftp: serving " << policy_.root() << " on port " << port_
            << (config_.single_port ? " (single port)" : "");
  std::array<epoll_event, 256> events;
  for (;;) {
    int timeout = EpollTimeoutMs();
    if (stop_deadline_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*stop_deadline_ -
                                                               Clock::now())
                      .count();
      int ms = left < 0 ? 0 : static_cast<int>(left);
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    int n = epoll_wait(epoll_fd_, events.data(), events.size(),
                       wire::Heartbeat::Cap(timeout));
    heartbeat_.Tick();
    TakeConfig();
    if (n < 0 && errno != EINTR) {
      PLOG(ERROR) << "tftp: epoll_wait";
      break;
    }
    bool server_ready = false;
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kStopId) {
        // The stop descriptor stays readable: stop watching it, and give
        // the transfers in flight their grace.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stop_fd, nullptr);
        stop_deadline_ =
            Clock::now() + std::chrono::milliseconds(config_.stop_grace_ms);
        if (!transfers_.empty()) {
          LOG(INFO) << "tftp: stop signal: " << transfers_.size()
                    << " transfers in flight get up to "
                    << config_.stop_grace_ms
                    << " ms to finish; new requests are dropped";
        }
      } else if (id == kServerId) {
        server_ready = true;
      } else {
        OnTransferReadable(id);
      }
    }
    // New requests after the round's transfers: an OVMF client's ERROR
    // ending its tsize probe frees the slot its next RRQ needs, and a full
    // server would otherwise drop RRQs that fit once the round is read.
    if (server_ready) OnServerReadable();
    OnTimers();
    if (metrics_) {
      metrics_->TftpSync({counters_.requests, counters_.data_bytes,
                          counters_.packets_sent, counters_.retransmits,
                          counters_.send_errors, transfers_.size()});
    }
    if (stop_deadline_ &&
        (transfers_.empty() || Clock::now() >= *stop_deadline_)) {
      break;
    }
  }
  // What the grace did not see to its end.
  std::vector<uint64_t> left;
  for (const auto& [id, t] : transfers_) left.push_back(id);
  for (uint64_t id : left) {
    Finish(*transfers_.at(id), metrics::TransferEnd::kStopped,
           "the server stopped");
  }
  const Counters& c = counters_;
  // "in progress": those the grace cut off.
  LOG(INFO) << "tftp: stopping with " << left.size()
            << " transfers in progress; requests=" << c.requests
            << " done=" << c.transfers_done << " failed=" << c.transfers_failed
            << " packets=" << c.packets_sent << " retransmits=" << c.retransmits
            << " send_errors=" << c.send_errors
            << " kernel_drops=" << c.kernel_drops
            << " refused:" << FormatCounts(c.refused)
            << " dropped:" << FormatCounts(c.dropped);
}

void Server::Reconfigure(const Config& config) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  pending_ = std::make_unique<Config>(config);
  has_pending_.store(true, std::memory_order_release);
}

void Server::TakeConfig() {
  if (!has_pending_.load(std::memory_order_acquire)) return;
  std::unique_ptr<Config> next;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    has_pending_.store(false, std::memory_order_relaxed);
    next = std::move(pending_);
  }
  if (!next) return;
  absl::StatusOr<VirtualFiles> files = LoadVirtualFiles(*next);
  if (!files.ok()) {
    LOG(ERROR) << "tftp: reload: " << files.status().message()
               << "; keeping the running configuration";
    return;
  }
  virtual_ = std::move(*files);
  config_.max_blksize = next->max_blksize;
  config_.max_windowsize = next->max_windowsize;
  config_.max_sessions = next->max_sessions;
  config_.max_sessions_per_host = next->max_sessions_per_host;
  config_.virtual_files = next->virtual_files;
  RaiseFileLimit(config_.max_sessions);
}

int Server::EpollTimeoutMs() const {
  if (timers_.empty()) return -1;
  auto wait = timers_.top().first - Clock::now();
  if (wait <= Clock::duration::zero()) return 0;
  // Round up: waking a millisecond early would only spin.
  return static_cast<int>(
      std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

void Server::OnServerReadable() {
  // Bounded, so a flood of RRQs cannot starve the running transfers.
  for (int i = 0; i < 256; ++i) {
    Datagram d;
    if (!Receive(server_fd_, absl::MakeSpan(buf_), &d)) return;
    if (d.queue_drops) counters_.kernel_drops = *d.queue_drops;
    absl::Span<const uint8_t> packet(buf_.data(), d.size);
    if (d.truncated) {
      Count(Reason::kTruncated);
      continue;
    }
    if (!Served(d)) {
      // Port 69 answers only on the interfaces pxeproxy serves.
      Count(Reason::kNotServedInterface);
      continue;
    }
    auto it = config_.single_port ? by_peer_.find(d.peer) : by_peer_.end();
    if (it != by_peer_.end()) {
      OnPeerPacket(*transfers_[it->second], packet);
    } else {
      OnRequest(d, packet);
    }
  }
}

void Server::OnTransferReadable(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;  // finished by an earlier event
  Transfer& t = *it->second;
  // One datagram per wake-up: epoll is level-triggered and reports the
  // socket again, while reading until EAGAIN would cost a second recvmsg
  // per ACK of a lock-step transfer.
  Datagram d;
  if (!Receive(t.fd, absl::MakeSpan(buf_), &d)) return;
  absl::Span<const uint8_t> packet(buf_.data(), d.size);
  if (d.peer != t.peer) {
    // RFC 1350 section 4: a packet from a wrong TID gets ERROR 5 and the
    // transfer goes on undisturbed. An ERROR is never answered.
    absl::StatusOr<wire::TftpOpcode> op = wire::PeekTftpOpcode(packet);
    if (op.ok() && *op == wire::TftpOpcode::kError) return;
    Count(Reason::kUnknownTid);
    SendError(t.fd, d.peer, 0, wire::TftpErrorCode::kUnknownTid,
              "unknown transfer ID");
    return;
  }
  if (d.truncated) {
    Count(Reason::kTruncated);
    return;
  }
  OnPeerPacket(t, packet);
}

void Server::OnPeerPacket(Transfer& t, absl::Span<const uint8_t> packet) {
  absl::StatusOr<wire::TftpOpcode> op = wire::PeekTftpOpcode(packet);
  if (op.ok() && *op == wire::TftpOpcode::kAck) {
    absl::StatusOr<wire::TftpAck> ack = wire::ParseTftpAck(packet);
    if (ack.ok()) {
      const uint64_t id = t.id;
      Apply(t, t.session.OnAck(ack->block));
      auto it = transfers_.find(id);  // Apply may have finished it
      if (it == transfers_.end() || it->second->session.heard()) {
        unheard_.erase(id);
      }
      return;
    }
  } else if (op.ok() && *op == wire::TftpOpcode::kError) {
    // PXE ROMs often ask for tsize and then abort with ERROR 8 on purpose,
    // to learn the size before the real download: not worth more than VLOG.
    absl::StatusOr<wire::TftpErrorPacket> e = wire::ParseTftpError(packet);
    Finish(t, metrics::TransferEnd::kClientError,
           e.ok() ? absl::StrCat("client error ", e->code, " '",
                                 absl::CEscape(e->message), "'")
                  : "client error");
    return;
  } else if (op.ok() && *op == wire::TftpOpcode::kRrq) {
    Count(Reason::kDuplicateRrq);  // single-port mode
    return;
  }
  Count(Reason::kMalformed);
}

bool Server::TimerLive(const TimerEntry& e) const {
  auto it = transfers_.find(e.second);
  return it != transfers_.end() && it->second->deadline == e.first;
}

void Server::OnTimers() {
  Clock::time_point now = Clock::now();
  while (!timers_.empty() &&
         (timers_.top().first <= now || !TimerLive(timers_.top()))) {
    TimerEntry e = timers_.top();
    timers_.pop();
    if (!TimerLive(e)) continue;  // re-armed or finished since
    Transfer& t = *transfers_[e.second];
    t.deadline = Clock::time_point();
    Apply(t, t.session.OnTimeout());
  }
}

// A client may ask for a 255 s timeout and ACK fast: stale entries would
// pile up until their time. Rebuild from the live deadlines when they
// outnumber the transfers by far.
void Server::CompactTimers() {
  if (timers_.size() < 4 * transfers_.size() + 4096) return;
  std::vector<TimerEntry> live;
  for (const auto& [id, t] : transfers_) {
    if (t->deadline != Clock::time_point()) live.push_back({t->deadline, id});
  }
  timers_ = decltype(timers_)(std::greater<>(), std::move(live));
}

void Server::Apply(Transfer& t, const Action& a) {
  switch (a.kind) {
    case Action::Kind::kNone:
      Count(ReasonOf(a.ignored));
      return;
    case Action::Kind::kWait:
      ArmTimer(t);
      return;
    case Action::Kind::kSendOack: {
      iovec iov{t.oack.data(), t.oack.size()};
      if (Send(t.fd, t.peer, t.own_fd ? 0 : t.local, {&iov, 1})) {
        ++counters_.packets_sent;
      } else {
        ++counters_.send_errors;
      }
      if (a.retransmit) ++counters_.retransmits, ++t.retransmits;
      ArmTimer(t);
      return;
    }
    case Action::Kind::kSendData: {
      if (!SendData(t, a.first, a.last)) return;  // t is gone
      // A netascii window may stop at the block found to be the last.
      uint64_t last = std::min(a.last, t.session.last_block());
      if (a.retransmit && last >= a.first) {
        counters_.retransmits += last - a.first + 1;
        t.retransmits += last - a.first + 1;
      }
      ArmTimer(t);
      return;
    }
    case Action::Kind::kDone:
      Finish(t, metrics::TransferEnd::kDone, "done");
      return;
    case Action::Kind::kGiveUp:
      Finish(t, metrics::TransferEnd::kTimeout,
             absl::StrCat("no answer for ", t.session.stalled_ms(), "ms"));
      return;
  }
}

bool Server::SendData(Transfer& t, uint64_t first, uint64_t last) {
  std::array<std::array<uint8_t, 4>, kMaxBatch> headers;
  std::array<iovec, 2 * kMaxBatch> iov;
  std::array<absl::Span<const uint8_t>, kMaxBatch> payload;
  if (t.mode == wire::TftpMode::kNetascii) t.netascii.Acked(t.session.acked());
  for (uint64_t block = first; block <= last;) {
    // UDP GSO sends at most 64 KiB per call.
    int batch = t.gso
                    ? std::clamp(65000 / (4 + t.options.blksize), 1, kMaxBatch)
                    : kMaxBatch;
    uint64_t batch_last = std::min<uint64_t>(last, block + batch - 1);
    absl::StatusOr<int> ready =
        t.mode == wire::TftpMode::kNetascii
            ? EncodeBatch(t, block, batch_last, payload.data())
            : ReadBatch(t, block, batch_last, payload.data());
    if (!ready.ok()) {
      LOG(WARNING) << "tftp: " << ready.status();
      SendError(t.fd, t.peer, t.own_fd ? 0 : t.local,
                wire::TftpErrorCode::kNotDefined,
                "file changed during the transfer, try again");
      Finish(t, metrics::TransferEnd::kReadError,
             std::string(ready.status().message()));
      return false;
    }
    int count = *ready;
    for (int i = 0; i < count; ++i) {
      headers[i] = wire::TftpDataHeader(Session::WireBlock(block + i));
      iov[2 * i] = {headers[i].data(), headers[i].size()};
      iov[2 * i + 1] = {const_cast<uint8_t*>(payload[i].data()),
                        payload[i].size()};
      counters_.data_bytes += payload[i].size();
    }
    int sent = SendChunk(t, iov.data(), count);
    counters_.packets_sent += sent;
    // A full socket buffer loses the rest of the window like the network
    // would; the timer resends it.
    counters_.send_errors += count - sent;
    block += count;
    if (block > t.session.last_block()) break;  // netascii: the end
  }
  return true;
}

absl::StatusOr<int> Server::ReadBatch(Transfer& t, uint64_t first,
                                      uint64_t last,
                                      absl::Span<const uint8_t>* out) {
  // The batch's blocks are contiguous in the file: one read for all.
  uint64_t offset = t.session.BlockOffset(first);
  uint64_t length = 0;
  for (uint64_t b = first; b <= last; ++b) length += t.session.BlockLength(b);
  absl::StatusOr<absl::Span<const uint8_t>> bytes =
      t.data->Read(offset, length, &read_buf_);
  if (!bytes.ok()) return bytes.status();
  uint64_t at = 0;
  int count = 0;
  for (uint64_t b = first; b <= last; ++b, ++count) {
    uint32_t n = t.session.BlockLength(b);
    out[count] = bytes->subspan(at, n);
    at += n;
  }
  return count;
}

// Each block converted from the cursor where it starts (kept for the
// unacknowledged window), reading at most one block of the file: the work
// per DATA packet is the same as for octet, whatever the file's size.
absl::StatusOr<int> Server::EncodeBatch(Transfer& t, uint64_t first,
                                        uint64_t last,
                                        absl::Span<const uint8_t>* out) {
  size_t blksize = static_cast<size_t>(t.options.blksize);
  encode_buf_.clear();
  // Reserved up front: `out` points into it while it grows.
  encode_buf_.reserve((last - first + 1) * blksize);
  int count = 0;
  for (uint64_t b = first; b <= last; ++b, ++count) {
    std::optional<NetasciiCursor> at = t.netascii.Start(b);
    if (!at) {
      return absl::InternalError(
          absl::StrCat("netascii: no cursor for block ", b));
    }
    uint64_t left = t.data->size() - std::min(at->src, t.data->size());
    absl::StatusOr<absl::Span<const uint8_t>> src = t.data->Read(
        at->src, static_cast<size_t>(std::min<uint64_t>(left, blksize)),
        &read_buf_);
    if (!src.ok()) return src.status();
    size_t before = encode_buf_.size();
    NetasciiCursor next = EncodeNetascii(*at, *src, blksize, &encode_buf_);
    size_t n = encode_buf_.size() - before;
    out[count] = {reinterpret_cast<const uint8_t*>(encode_buf_.data()) + before,
                  n};
    t.netascii.SetStart(b + 1, next);
    if (n < blksize) {
      t.session.SetLastBlock(b);
      return count + 1;
    }
  }
  return count;
}

// A window as one UDP_SEGMENT send when the transfer may use GSO, else
// with sendmmsg. Returns how many datagrams went out.
int Server::SendChunk(Transfer& t, const iovec* iov, int count) {
  wire::Ipv4 local = t.own_fd ? 0 : t.local;
  if (t.gso && gso_works_ && count > 1) {
    if (SendSegmented(t.fd, t.peer, local, iov, 2 * count,
                      static_cast<uint16_t>(4 + t.options.blksize))) {
      gso_worked_ = true;
      return count;
    }
    int err = errno;
    switch (GsoAfterError(err, gso_worked_)) {
      case GsoFallback::kRetryLater:
        return 0;
      case GsoFallback::kEverywhere:
        LOG(WARNING) << "tftp: UDP GSO refused (" << strerror(err)
                     << "); using sendmmsg from now on";
        gso_works_ = false;
        break;
      case GsoFallback::kThisTransfer:
        if (auto more = LogSlot("gso_error")) {
          LOG(WARNING) << "tftp: UDP GSO send to " << FormatEndpoint(t.peer)
                       << " failed (" << strerror(err)
                       << "); this transfer goes on with sendmmsg" << *more;
        }
        t.gso = false;
        break;
    }
  }
  return SendBatch(t.fd, t.peer, local, iov, count);
}

void Server::ArmTimer(Transfer& t) {
  t.deadline = Clock::now() + std::chrono::milliseconds(t.session.WaitMs());
  timers_.push({t.deadline, t.id});
  CompactTimers();
}

void Server::Count(Reason r) {
  ++counters_.dropped[ReasonName(r)];
  if (metrics_) metrics_->TftpDropped(r);
}

void Server::Finish(Transfer& t, metrics::TransferEnd end,
                    const std::string& how) {
  const bool ok = end == metrics::TransferEnd::kDone;
  const Clock::duration took = Clock::now() - t.started;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  if (metrics_) {
    metrics_->TftpEnded(t.peer.ip, t.filename, end, t.data->size(),
                        t.session.acked(), took);
  }
  if (ok) {
    ++counters_.transfers_done;
    LOG(INFO) << "tftp: sent '" << absl::CEscape(t.filename) << "' to "
              << FormatEndpoint(t.peer) << " bytes=" << t.data->size()
              << " blksize=" << t.options.blksize
              << " windowsize=" << t.options.windowsize << " duration=" << ms
              << "ms retransmits=" << t.retransmits;
  } else {
    ++counters_.transfers_failed;
    // A spoofed RRQ ends here too: one line per interval.
    if (VLOG_IS_ON(1)) {
      if (auto more = LogSlot("transfer_failed")) {
        VLOG(1) << "tftp: '" << absl::CEscape(t.filename) << "' to "
                << FormatEndpoint(t.peer) << " ended after " << ms
                << "ms, block " << t.session.acked() << "/"
                << t.session.last_block() << ": " << how << *more;
      }
    }
  }
  if (t.own_fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, t.fd, nullptr);
    close(t.fd);
  }
  by_peer_.erase(t.peer);
  unheard_.erase(t.id);
  if (auto h = per_host_.find(t.peer.ip); h != per_host_.end()) {
    if (--h->second == 0) per_host_.erase(h);
  }
  uint64_t id = t.id;
  transfers_.erase(id);  // destroys t
  if (transfers_.empty() && peak_transfers_ >= kTrimAfter) {
    // A storm is over: give the heap its transfers used back to the system
    // (glibc keeps freed memory otherwise), so the daemon's memory returns
    // to idle rather than staying at the storm's peak (BENCHMARKS.md).
    malloc_trim(0);
    peak_transfers_ = 0;
  }
}

void Server::SendError(int fd, const Endpoint& to, wire::Ipv4 local,
                       wire::TftpErrorCode code, const std::string& text) {
  std::vector<uint8_t> packet = wire::BuildTftpError(code, text);
  iovec iov{packet.data(), packet.size()};
  if (Send(fd, to, local, {&iov, 1})) {
    ++counters_.packets_sent;
  } else {
    ++counters_.send_errors;
  }
}

}  // namespace tftp
