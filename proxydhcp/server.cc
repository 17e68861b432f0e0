#include "proxydhcp/server.h"

#include <errno.h>
#include <poll.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "metrics/pxeproxy_metrics.h"

namespace proxydhcp {

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const std::vector<std::string>& interfaces, const ResponderConfig& config) {
  std::unique_ptr<Server> s(new Server(config));
  absl::StatusOr<std::unique_ptr<InterfaceMonitor>> monitor =
      InterfaceMonitor::Create();
  if (!monitor.ok()) return monitor.status();
  s->monitor_ = std::move(*monitor);
  absl::StatusOr<std::vector<sock_filter>> filter = CompileBpf(kProxyBpfFilter);
  if (!filter.ok()) return filter.status();
  s->filter_ = *filter;
  for (const std::string& name : interfaces) {
    std::optional<InterfaceInfo> info = s->monitor_->ByName(name);
    if (!info) {
      return absl::NotFoundError(
          absl::StrCat("interface ", name, " does not exist"));
    }
    absl::StatusOr<std::unique_ptr<PacketSocket>> sock =
        PacketSocket::Open(info->index, *filter, kDefaultRing);
    if (!sock.ok()) {
      return absl::Status(sock.status().code(),
                          absl::StrCat(name, ": ", sock.status().message()));
    }
    s->listeners_.push_back({name, std::move(*sock)});
  }
  absl::StatusOr<std::unique_ptr<RawIpSender>> raw = RawIpSender::Open();
  if (!raw.ok()) return raw.status();
  s->raw_ = std::move(*raw);
  absl::StatusOr<std::unique_ptr<PortSink>> sink = PortSink::Open(kPxeBinlPort);
  if (sink.ok()) {
    s->sink_4011_ = std::move(*sink);
  } else {
    LOG(WARNING) << "port 4011 is in use by another program ("
                 << sink.status().message()
                 << "); answering 4011 through the raw socket anyway";
  }
  s->LogAddresses();
  return s;
}

void Server::LogAddresses() {
  // Netlink reports every link and address event (IPv6 too): log a line only
  // when what an interface serves with has changed.
  for (const Listener& l : listeners_) {
    std::optional<InterfaceInfo> info = monitor_->ByName(l.name);
    std::string line;
    if (!info) {
      line = absl::StrCat("interface ", l.name, " has disappeared");
    } else if (info->ipv4.empty()) {
      line = absl::StrCat("interface ", l.name,
                          " has no IPv4 address: its clients are ignored "
                          "until one is added");
    } else {
      std::vector<std::string> addrs;
      for (const IfAddr& a : info->ipv4) {
        addrs.push_back(
            absl::StrCat(wire::FormatIpv4(a.ip), "/", a.prefix_len));
      }
      line = absl::StrCat("serving ", l.name, " ", absl::StrJoin(addrs, ", "),
                          " mac ", wire::FormatMac(info->mac));
    }
    std::string& last = logged_[l.name];
    if (line == last) continue;
    last = line;
    if (info && !info->ipv4.empty()) {
      LOG(INFO) << line;
    } else {
      LOG(WARNING) << line;
    }
  }
}

void Server::Rebind() {
  // An interface deleted and created again (a bridge or libvirt restart) has
  // a new index: the socket is bound to a dead one. Re-binding the same
  // socket keeps its 4 MiB queue (SO_RCVBUFFORCE needs CAP_NET_ADMIN, gone
  // after the privilege drop) and its filter.
  for (Listener& l : listeners_) {
    std::optional<InterfaceInfo> info = monitor_->ByName(l.name);
    // The kernel unbinds the socket when its interface is unregistered; a
    // new interface may even get the same index back (veth pairs
    // re-created at once do), so ask the socket, not our own record.
    if (!info || info->index == l.socket->BoundIndex()) continue;
    if (absl::Status s = l.socket->Rebind(info->index); !s.ok()) {
      // ENODEV: the index came from a stale cache (libnl 3.7 kept a veth
      // deleted after a down/up; tests/netns/iface_change_test.sh): read
      // every link again, and try once more then.
      monitor_->RequestResync();
      if (auto n =
              log_limiter_.Admit("rebind", wire::LogLimiter::Clock::now())) {
        LOG(WARNING) << l.name << ": cannot listen again yet (" << s.message()
                     << "); re-reading the interfaces"
                     << wire::LogLimiter::Suffix(*n);
      }
      continue;
    }
    LOG(INFO) << l.name << " came back as index " << info->index
              << ": listening again";
  }
}

namespace {
// How long netlink must stay quiet before the address line is logged.
constexpr auto kSettle = std::chrono::milliseconds(300);
}  // namespace

void Server::OnNetlink() {
  if (!monitor_->Process()) return;
  counters_.netlink_resyncs = monitor_->resyncs();
  Rebind();
  settle_since_ = wire::LogLimiter::Clock::now();
}

int Server::PollTimeoutMs() const {
  const auto now = wire::LogLimiter::Clock::now();
  int timeout = monitor_->TimeoutMs(now);
  if (reply_summary_due_)
    timeout = timeout < 0 ? 1000 : std::min(timeout, 1000);
  if (settle_since_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    *settle_since_ + kSettle - now)
                    .count();
    int ms = left < 0 ? 0 : static_cast<int>(left) + 1;
    timeout = timeout < 0 ? ms : std::min(timeout, ms);
  }
  return timeout;
}

void Server::Run(int stop_fd) {
  // A flood on one interface must not starve the others, netlink or the stop
  // signal: each listener gets at most this many frames per round.
  constexpr int kBatch = 256;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({monitor_->fd(), POLLIN, 0});
    fds.push_back({sink_4011_ ? sink_4011_->fd() : -1, POLLIN, 0});
    for (const Listener& l : listeners_) {
      fds.push_back({l.socket->fd(), POLLIN, 0});
    }
    int n = poll(fds.data(), fds.size(), wire::Heartbeat::Cap(PollTimeoutMs()));
    heartbeat_.Tick();
    TakeConfig();
    if (n < 0) {
      if (errno == EINTR) continue;
      PLOG(ERROR) << "poll";
      return;
    }
    if (fds[0].revents != 0) {
      for (Listener& l : listeners_) {
        counters_.kernel_drops += l.socket->TakeDrops();
      }
      return;
    }
    if (fds[2].revents != 0) sink_4011_->Drain();
    for (size_t i = 3; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const Listener& l = listeners_[i - 3];
      if ((fds[i].revents & POLLERR) != 0) {
        // The interface went down (ENETDOWN): read the error so that poll
        // stops reporting it; netlink tells when it is back.
        if (int err = l.socket->TakeError(); err != 0) {
          VLOG(1) << l.name << ": " << absl::ErrnoToStatus(err, "socket");
        }
      }
      for (int k = 0; k < kBatch; ++k) {
        ReceiveMeta meta;
        absl::StatusOr<std::optional<absl::Span<const uint8_t>>> frame =
            l.socket->ReceiveFrame(&meta);
        if (!frame.ok()) {
          ++counters_.receive_errors;
          if (metrics_) metrics_->DhcpReceiveError();
          if (auto n = log_limiter_.Admit("receive_error",
                                          wire::LogLimiter::Clock::now())) {
            LOG(ERROR) << l.name << ": " << frame.status()
                       << wire::LogLimiter::Suffix(*n);
          }
          break;
        }
        if (!frame->has_value()) break;
        HandleFrame(l, **frame, meta);
      }
      // What this round decided goes out now, in one sendmmsg per socket:
      // a batch never waits for more frames, so one request alone is
      // answered as fast as before.
      FlushReplies(l);
      counters_.truncated += l.socket->TakeTruncated();
    }
    LogReplySummary();
    if (fds[1].revents != 0 ||
        monitor_->TimeoutMs(wire::LogLimiter::Clock::now()) == 0) {
      OnNetlink();
    }
    if (settle_since_ &&
        wire::LogLimiter::Clock::now() - *settle_since_ >= kSettle) {
      settle_since_.reset();
      LogAddresses();
    }
  }
}

void Server::Reconfigure(const ResponderConfig& config) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  pending_ = std::make_unique<ResponderConfig>(config);
  has_pending_.store(true, std::memory_order_release);
}

void Server::TakeConfig() {
  if (!has_pending_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(pending_mu_);
  has_pending_.store(false, std::memory_order_relaxed);
  if (pending_) config_ = std::move(*pending_);
  pending_.reset();
}

void Server::LogIgnore(const Listener& l, const Ignore& ig) {
  const char* reason = IgnoreReasonName(ig.reason);
  ++counters_.ignored[reason];
  if (metrics_) metrics_->DhcpIgnored(ig.reason);
  auto describe = [&] {
    std::vector<std::string> parts;
    if (ig.mac) {
      parts.push_back(absl::StrFormat("mac=%s xid=0x%08x",
                                      wire::FormatMac(*ig.mac), ig.xid));
    }
    if (ig.address != 0) {
      parts.push_back(absl::StrCat("addr=", wire::FormatIpv4(ig.address)));
    }
    if (!ig.detail.empty()) parts.push_back(ig.detail);
    return absl::StrJoin(parts, " ");
  };
  // Frames a hostile or broken sender chose: one line per reason per 10 s
  // (with how many were suppressed); the counters stay exact. Ordinary
  // silence (a non-PXE client, a REQUEST for the real server) only at -v 1.
  const bool hostile = ig.reason == IgnoreReason::kBadChecksum ||
                       ig.reason == IgnoreReason::kBadSource ||
                       ig.reason == IgnoreReason::kBadRelayAddress ||
                       ig.reason == IgnoreReason::kReversePath ||
                       ig.reason == IgnoreReason::kReplyTooLarge;
  if (hostile) {
    if (auto n = log_limiter_.Admit(reason, wire::LogLimiter::Clock::now())) {
      LOG(WARNING) << "ignore reason=" << reason << " if=" << l.name << " "
                   << describe() << wire::LogLimiter::Suffix(*n);
    }
    return;
  }
  VLOG(1) << "ignore reason=" << reason << " if=" << l.name << " "
          << describe();
}

void Server::NoteTftpRequest(wire::Ipv4 address) {
  absl::MutexLock lock(&tftp_mu_);
  // Bounded: a flood of RRQs between two DHCP frames keeps the latest.
  if (tftp_requests_.size() >= 4096) tftp_requests_.clear();
  tftp_requests_.push_back(address);
}

void Server::UpdateUefiHistory(const Decision& d, int64_t now_ms) {
  if (const auto* ig = std::get_if<Ignore>(&d)) {
    if (ig->reason == IgnoreReason::kRequestOnPort67 && ig->mac) {
      uefi_history_.LearnAddress(*ig->mac, ig->requested);
      const UefiHistoryEntry* e = uefi_history_.Find(*ig->mac);
      auto t = recent_tftp_.find(ig->requested);
      if (e != nullptr && t != recent_tftp_.end() &&
          t->second >= e->offered_ms) {
        uefi_history_.Reached(*ig->mac);
      }
    }
    return;
  }
  const Reply& r = std::get<Reply>(d);
  const wire::MacAddr mac = r.message.mac();
  if (r.src_port == kPxeBinlPort) uefi_history_.Reached(mac);
  if (!r.uefi_strategy) return;
  uefi_history_.Offered(mac, r.message.xid, *r.uefi_strategy, now_ms);
  if (r.uefi_switched) {
    ++counters_.uefi_strategy_switches;
    LOG(INFO) << "uefi strategy switched to "
              << UefiStrategyName(*r.uefi_strategy)
              << absl::StrFormat(" mac=%s xid=0x%08x", wire::FormatMac(mac),
                                 r.message.xid)
              << ": it DISCOVERed again without reaching 4011 or TFTP";
  }
}

void Server::HandleFrame(const Listener& l, absl::Span<const uint8_t> frame,
                         const ReceiveMeta& meta) {
  ++counters_.received;
  const auto received_at = std::chrono::steady_clock::now();
  if (metrics_) metrics_->DhcpReceived();
  std::vector<wire::Ipv4> reached;
  {
    absl::MutexLock lock(&tftp_mu_);
    reached.swap(tftp_requests_);
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count();
  for (wire::Ipv4 a : reached) {
    uefi_history_.ReachedFrom(a);
    if (recent_tftp_.size() >= 4096) recent_tftp_.clear();
    recent_tftp_[a] = now_ms;
  }
  Decision d = Decide(
      frame, meta, monitor_->net(), config_,
      UefiRecall{&uefi_history_, now_ms, config_.uefi_adaptive_window_ms});
  if (auto* ig = std::get_if<Ignore>(&d)) {
    UpdateUefiHistory(d, now_ms);
    LogIgnore(l, *ig);
    return;
  }
  UpdateUefiHistory(d, now_ms);
  outgoing_.push_back(std::move(std::get<Reply>(d)));
  outgoing_at_.push_back(received_at);
}

void Server::FlushReplies(const Listener& l) {
  if (outgoing_.empty()) return;
  // Broadcasts leave through the interface's packet socket, unicasts (4011,
  // relays) through the raw socket the kernel routes.
  std::vector<OutPacket> frames, routed;
  std::vector<size_t> frame_of, routed_of;
  for (size_t i = 0; i < outgoing_.size(); ++i) {
    const Reply& r = outgoing_[i];
    if (r.broadcast) {
      frames.push_back({r.bytes, 0});
      frame_of.push_back(i);
    } else {
      routed.push_back({r.bytes, r.dst_ip});
      routed_of.push_back(i);
    }
  }
  std::vector<int> errors(outgoing_.size(), 0), e;
  if (!frames.empty()) {
    l.socket->SendMany(frames, &e);
    for (size_t k = 0; k < e.size(); ++k) errors[frame_of[k]] = e[k];
  }
  if (!routed.empty()) {
    raw_->SendMany(routed, &e);
    for (size_t k = 0; k < e.size(); ++k) errors[routed_of[k]] = e[k];
  }
  for (size_t i = 0; i < outgoing_.size(); ++i) {
    LogReply(l, outgoing_[i], errors[i], outgoing_at_[i]);
  }
  outgoing_.clear();
  outgoing_at_.clear();
}

void Server::LogReply(const Listener& l, const Reply& reply, int error,
                      std::chrono::steady_clock::time_point received_at) {
  const auto now = wire::LogLimiter::Clock::now();
  auto who = [&] {
    return absl::StrFormat("mac=%s xid=0x%08x",
                           wire::FormatMac(reply.message.mac()),
                           reply.message.xid);
  };
  if (error != 0) {
    ++counters_.send_errors;
    if (metrics_) metrics_->DhcpSendError();
    if (auto n = log_limiter_.Admit("send_error", now)) {
      LOG(ERROR) << "send failed " << who() << " if=" << l.name << ": "
                 << absl::ErrnoToStatus(error, "send")
                 << wire::LogLimiter::Suffix(*n);
    }
    return;
  }
  ++counters_.replied;
  // One line per reply, but a LAN can ask for 100,000 replies a second:
  // past kReplyLogBurst lines a second the rest are counted and summed up
  // in one line (LogReplySummary); the counters stay exact.
  if (metrics_) {
    metrics_->DhcpReplied(reply,
                          std::chrono::steady_clock::now() - received_at);
  }
  std::optional<uint64_t> n = reply_log_.Admit("reply", now);
  if (!n) {
    reply_summary_due_ = true;
    return;
  }
  LOG(INFO) << wire::MessageTypeName(*reply.message.message_type()) << " "
            << who() << " if=" << l.name
            << " arch=" << ArchName(reply.client.arch)
            << " client=" << ClientKindName(reply.client.kind)
            << " file=" << reply.boot_file << " port=" << reply.src_port
            << " to=" << wire::FormatIpv4(reply.dst_ip) << ":" << reply.dst_port
            << (*n != 0 ? absl::StrCat(" (", *n, " more replies not logged)")
                        : "");
}

void Server::LogReplySummary() {
  if (!reply_summary_due_) return;
  const auto now = wire::LogLimiter::Clock::now();
  if (now - last_reply_summary_ < std::chrono::seconds(1)) return;
  last_reply_summary_ = now;
  reply_summary_due_ = false;
  if (uint64_t n = reply_log_.TakeSuppressed("reply"); n != 0) {
    LOG(INFO) << "sent " << n
              << " more replies not logged one by one (more than "
              << kReplyLogBurst << " a second; " << counters_.replied
              << " replies in all)";
  }
}

}  // namespace proxydhcp
