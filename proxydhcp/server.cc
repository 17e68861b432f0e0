#include "proxydhcp/server.h"

#include <errno.h>
#include <poll.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

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
        PacketSocket::Open(info->index, *filter);
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
    int n = poll(fds.data(), fds.size(), PollTimeoutMs());
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
      for (int k = 0; k < kBatch; ++k) {
        ReceiveMeta meta;
        absl::StatusOr<std::optional<absl::Span<const uint8_t>>> frame =
            l.socket->ReceiveFrame(&meta);
        if (!frame.ok()) {
          ++counters_.receive_errors;
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
    }
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

void Server::LogIgnore(const Listener& l, const Ignore& ig) {
  const char* reason = IgnoreReasonName(ig.reason);
  ++counters_.ignored[reason];
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
  const Reply& reply = std::get<Reply>(d);
  absl::Status sent = reply.broadcast ? l.socket->Send(reply.bytes)
                                      : raw_->Send(reply.bytes, reply.dst_ip);
  const std::string who =
      absl::StrFormat("mac=%s xid=0x%08x", wire::FormatMac(reply.message.mac()),
                      reply.message.xid);
  if (!sent.ok()) {
    ++counters_.send_errors;
    if (auto n =
            log_limiter_.Admit("send_error", wire::LogLimiter::Clock::now())) {
      LOG(ERROR) << "send failed " << who << " if=" << l.name << ": " << sent
                 << wire::LogLimiter::Suffix(*n);
    }
    return;
  }
  ++counters_.replied;
  UpdateUefiHistory(d, now_ms);
  LOG(INFO) << MessageTypeName(*reply.message.message_type()) << " " << who
            << " if=" << l.name << " arch=" << ArchName(reply.client.arch)
            << " client=" << ClientKindName(reply.client.kind)
            << " file=" << reply.boot_file << " port=" << reply.src_port
            << " to=" << wire::FormatIpv4(reply.dst_ip) << ":"
            << reply.dst_port;
}

}  // namespace proxydhcp
