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
#include "tftp/options.h"
#include "wire/status_macros.h"

namespace tftp {
namespace {

constexpr uint64_t kStopId = 1;
constexpr uint64_t kServerId = 2;

std::string FormatCounts(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) absl::StrAppend(&out, " ", name, "=", n);
  return out.empty() ? " none" : out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Config& config) {
  ASSIGN_OR_RETURN(PathPolicy policy,
                   PathPolicy::Create(config.root, config.symlink_allow));
  std::unique_ptr<Server> s(new Server(config, std::move(policy)));
  ASSIGN_OR_RETURN(s->virtual_, LoadVirtualFiles(config));
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
    int n = epoll_wait(epoll_fd_, events.data(), events.size(),
                       wire::Heartbeat::Cap(RunTimeoutMs()));
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
        OnStopSignal(stop_fd);
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
      metrics_->TftpSync({.requests = counters_.requests,
                          .data_bytes = counters_.data_bytes,
                          .packets_sent = counters_.packets_sent,
                          .retransmits = counters_.retransmits,
                          .send_errors = counters_.send_errors,
                          .in_flight = transfers_.size(),
                          .receive_errors = counters_.receive_errors});
    }
    if (stop_deadline_ &&
        (transfers_.empty() || Clock::now() >= *stop_deadline_)) {
      break;
    }
  }
  FinishAll();
}

int Server::RunTimeoutMs() const {
  int timeout = EpollTimeoutMs();
  if (!stop_deadline_) return timeout;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*stop_deadline_ -
                                                           Clock::now())
                  .count();
  int ms = left < 0 ? 0 : static_cast<int>(left);
  return timeout < 0 ? ms : std::min(timeout, ms);
}

void Server::OnStopSignal(int stop_fd) {
  // The stop descriptor stays readable: stop watching it, and give the
  // transfers in flight their grace.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stop_fd, nullptr);
  stop_deadline_ =
      Clock::now() + std::chrono::milliseconds(config_.stop_grace_ms);
  if (!transfers_.empty()) {
    LOG(INFO) << "tftp: stop signal: " << transfers_.size()
              << " transfers in flight get up to " << config_.stop_grace_ms
              << " ms to finish; new requests are dropped";
  }
}

void Server::FinishAll() {
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
    std::optional<Datagram> got = Read(server_fd_);
    if (!got) return;
    const Datagram& d = *got;
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

std::optional<Datagram> Server::Read(int fd) {
  absl::StatusOr<std::optional<Datagram>> got =
      Receive(fd, absl::MakeSpan(buf_));
  if (got.ok()) return *got;
  // Not an empty queue: the socket failed. Counted; one line per interval.
  ++counters_.receive_errors;
  if (auto more = LogSlot("receive_error")) {
    LOG(WARNING) << "tftp: receive failed: " << got.status().message() << *more;
  }
  return std::nullopt;
}

void Server::OnTransferReadable(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;  // finished by an earlier event
  Transfer& t = *it->second;
  // One datagram per wake-up: epoll is level-triggered and reports the
  // socket again, while reading until EAGAIN would cost a second recvmsg
  // per ACK of a lock-step transfer.
  std::optional<Datagram> got = Read(t.fd);
  if (!got) return;
  const Datagram& d = *got;
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

}  // namespace tftp
