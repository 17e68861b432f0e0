#include "proxydhcp/server.h"

#include <errno.h>
#include <poll.h>

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
      for (const auto& [ip, len] : info->ipv4) {
        addrs.push_back(absl::StrCat(wire::FormatIpv4(ip), "/", len));
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
  // a new index: the old socket is bound to a dead one.
  for (Listener& l : listeners_) {
    std::optional<InterfaceInfo> info = monitor_->ByName(l.name);
    if (!info || info->index == l.socket->ifindex()) continue;
    absl::StatusOr<std::unique_ptr<PacketSocket>> sock =
        PacketSocket::Open(info->index, filter_);
    if (!sock.ok()) {
      LOG(ERROR) << l.name << ": cannot listen again: " << sock.status();
      continue;
    }
    LOG(INFO) << l.name << " came back as index " << info->index
              << ": listening again";
    l.socket = std::move(*sock);
  }
}

void Server::Run(int stop_fd) {
  // A flood on one interface must not starve the others, netlink or the stop
  // signal: each listener gets at most this many frames per round.
  constexpr int kBatch = 256;
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({monitor_->fd(), POLLIN, 0});
    fds.push_back({sink_4011_ ? sink_4011_->fd() : -1, POLLIN, 0});
    for (const Listener& l : listeners_) {
      fds.push_back({l.socket->fd(), POLLIN, 0});
    }
    int n = poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      PLOG(ERROR) << "poll";
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[2].revents != 0) sink_4011_->Drain();
    for (size_t i = 3; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const Listener& l = listeners_[i - 3];
      for (int k = 0; k < kBatch; ++k) {
        bool vlan_tagged = false;
        absl::StatusOr<std::optional<std::vector<uint8_t>>> frame =
            l.socket->Receive(&vlan_tagged);
        if (!frame.ok()) {
          ++counters_.receive_errors;
          LOG(ERROR) << l.name << ": " << frame.status();
          break;
        }
        if (!frame->has_value()) break;
        HandleFrame(l, **frame, vlan_tagged);
      }
    }
    if (fds[1].revents != 0 && monitor_->Process()) {
      LogAddresses();
      Rebind();
    }
  }
}

void Server::HandleFrame(const Listener& l, absl::Span<const uint8_t> frame,
                         bool vlan_tagged) {
  ++counters_.received;
  auto ignore = [&](IgnoreReason r, const std::string& detail) {
    ++counters_.ignored[IgnoreReasonName(r)];
    VLOG(1) << "ignore reason=" << IgnoreReasonName(r) << " if=" << l.name
            << " " << detail;
  };
  if (vlan_tagged) {
    ignore(IgnoreReason::kVlanTagged, "");
    return;
  }
  absl::StatusOr<wire::UdpDatagram> udp = wire::ParseEthernetUdp(frame);
  if (!udp.ok()) {
    ignore(IgnoreReason::kMalformed, std::string(udp.status().message()));
    return;
  }
  absl::StatusOr<DhcpMessage> req = ParseDhcp(udp->payload);
  if (!req.ok()) {
    ignore(IgnoreReason::kMalformed,
           absl::StrCat("src=", wire::FormatIpv4(udp->src_ip), " ",
                        req.status().message()));
    return;
  }
  const std::string who = absl::StrFormat(
      "mac=%s xid=0x%08x", wire::FormatMac(req->mac()), req->xid);
  const InterfaceSnapshot& snap = monitor_->snapshot();
  auto info = snap.find(l.socket->ifindex());
  RequestContext ctx;
  ctx.dst_port = udp->dst_port;
  ctx.src_ip = udp->src_ip;
  ctx.src_port = udp->src_port;
  if (udp->dst_ip != wire::kIpv4Broadcast) {
    if (!HasAddress(snap, udp->dst_ip)) {
      ignore(IgnoreReason::kNotAddressedToUs,
             absl::StrCat(who, " dst=", wire::FormatIpv4(udp->dst_ip)));
      return;
    }
    ctx.server_ip = udp->dst_ip;  // the address the relay or client chose
  } else if (info != snap.end()) {
    ctx.server_ip =
        AddressFacing(info->second, req->giaddr ? req->giaddr : req->ciaddr)
            .value_or(0);
  }
  Decision d = Respond(*req, ctx, config_);
  if (auto* ig = std::get_if<Ignore>(&d)) {
    ignore(ig->reason, who);
    return;
  }
  Reply& reply = std::get<Reply>(d);
  wire::UdpDatagram out;
  out.src_ip = reply.src_ip;
  out.dst_ip = reply.dst_ip;
  out.src_port = reply.src_port;
  out.dst_port = reply.dst_port;
  out.payload = SerializeDhcp(reply.message);
  absl::Status sent;
  if (reply.broadcast) {
    out.dst_mac = wire::kMacBroadcast;
    if (info != snap.end()) out.src_mac = info->second.mac;
    sent = l.socket->Send(wire::BuildEthernetUdp(out));
  } else {
    sent = raw_->Send(out);
  }
  if (!sent.ok()) {
    ++counters_.send_errors;
    LOG(ERROR) << "send failed " << who << " if=" << l.name << ": " << sent;
    return;
  }
  ++counters_.replied;
  LOG(INFO) << MessageTypeName(*reply.message.message_type()) << " " << who
            << " if=" << l.name << " arch=" << ArchName(reply.client.arch)
            << " client=" << ClientKindName(reply.client.kind)
            << " file=" << reply.boot_file << " port=" << ctx.dst_port
            << " to=" << wire::FormatIpv4(reply.dst_ip) << ":"
            << reply.dst_port;
}

}  // namespace proxydhcp
