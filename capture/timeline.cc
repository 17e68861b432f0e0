#include "capture/timeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proxydhcp/decide.h"
#include "wire/udp_frame.h"

namespace capture {
namespace {

constexpr uint16_t kTftpPort = 69;
constexpr size_t kMaxErrorSamples = 20;

bool HasPort(const Packet& p, uint16_t port) {
  return p.src_port == port || p.dst_port == port;
}

// A proxy's reply: anything on 4011, an OFFER without an address, or an ACK
// that names itself PXEClient/HTTPClient. An ACK to a DHCPINFORM (Windows
// asks for WPAD that way) has yiaddr 0 too, and is the corporate server's.
bool IsProxyReply(const DhcpEvent& e, bool to_inform) {
  if (e.binl) return true;
  if (e.msg.yiaddr != 0) return false;
  if (e.type == wire::kOffer) return true;
  if (e.type != wire::kAck || to_inform) return false;
  std::string vendor =
      e.msg.options.GetString(wire::kOptVendorClass).value_or("");
  return vendor.rfind("PXEClient", 0) == 0 ||
         vendor.rfind("HTTPClient", 0) == 0;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kClient:
      return "client";
    case Role::kCorporate:
      return "corporate";
    case Role::kProxy:
      return "proxy";
  }
  return "?";
}

wire::Ipv4 DhcpEvent::server_id() const {
  return msg.options.GetIpv4(wire::kOptServerId).value_or(src_ip);
}

TimelineBuilder::TimelineBuilder(LinkType link, AnalyzerConfig config)
    : link_(link), config_(std::move(config)) {}

void TimelineBuilder::Add(const Frame& f) {
  if (t_.frames++ == 0) t_.first_time = f.time;
  t_.last_time = std::max(t_.last_time, f.time);
  absl::StatusOr<std::optional<Packet>> d = DecodeFrame(link_, f.bytes);
  if (!d.ok()) {
    ++t_.decode_errors;
    if (t_.error_samples.size() < kMaxErrorSamples) {
      t_.error_samples.emplace_back(f.number,
                                    std::string(d.status().message()));
    }
    return;
  }
  if (!d->has_value()) return;
  const Packet& p = **d;
  if (p.fragment) return AddFragment(f, p);
  if (p.transport == Transport::kTcp) return AddHttp(f, p);
  if (p.transport != Transport::kUdp) return;
  if (HasPort(p, proxydhcp::kPxeBinlPort)) return AddDhcp(f, p, true);
  if (HasPort(p, proxydhcp::kDhcpServerPort) ||
      HasPort(p, proxydhcp::kDhcpClientPort)) {
    return AddDhcp(f, p, false);
  }
  absl::StatusOr<wire::TftpOpcode> op = wire::PeekTftpOpcode(p.payload);
  const bool request = op.ok() && (*op == wire::TftpOpcode::kRrq ||
                                   *op == wire::TftpOpcode::kWrq);
  if (p.dst_port == kTftpPort && request) return AddTftpRequest(f, p);
  AddTftpTransfer(f, p);
}

size_t TimelineBuilder::ClientFor(const wire::MacAddr& mac) {
  auto [it, inserted] = by_mac_.emplace(mac, t_.clients.size());
  if (inserted) {
    t_.clients.emplace_back();
    t_.clients.back().mac = mac;
  }
  return it->second;
}

std::optional<size_t> TimelineBuilder::ClientByIp(wire::Ipv4 ip) const {
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end()) return std::nullopt;
  return it->second;
}

void TimelineBuilder::LearnIp(size_t client, wire::Ipv4 ip) {
  if (ip == 0 || ip == wire::kIpv4Broadcast) return;
  by_ip_[ip] = client;
  if (known_ips_.insert({client, ip}).second) {
    t_.clients[client].ips.push_back(ip);
  }
}

// The daemon's own entry, proxydhcp::Decide, on the request rebuilt as a
// frame, received on an interface that holds our addresses (live: the
// watched interface's; a file: 192.0.2.1) with a route back through it. A
// unicast request is taken as sent to us (the address facing its source),
// so the dry run answers "what if the relay or client asked pxeproxy".
// Checksums are taken as verified: a capture made on the sending host holds
// offloaded, unfinished ones.
DryRun TimelineBuilder::RunDry(const DhcpEvent& e, const Packet& p,
                               absl::Time when) {
  constexpr int kIf = 1;
  proxydhcp::NetSnapshot net;
  proxydhcp::InterfaceInfo& info = net.interfaces[kIf];
  info.index = kIf;
  info.ipv4 = config_.self_addresses;
  if (info.ipv4.empty()) info.ipv4.push_back({kPlaceholderSelf, 0});
  net.routes = proxydhcp::RouteTable({{0, 0, {kIf}}});
  wire::UdpDatagram d;
  d.src_mac = p.src_mac;
  d.dst_mac = p.has_macs ? p.dst_mac : wire::kMacBroadcast;
  d.src_ip = e.src_ip;
  d.dst_ip = e.dst_ip == wire::kIpv4Broadcast
                 ? e.dst_ip
                 : proxydhcp::AddressFacing(info, e.src_ip).value_or(0);
  d.src_port = e.src_port;
  d.dst_port = e.dst_port;
  d.payload = p.payload;
  proxydhcp::ReceiveMeta meta;
  meta.ifindex = kIf;
  meta.csum_valid = true;
  const int64_t now_ms = absl::ToUnixMillis(when);
  proxydhcp::Decision decision = proxydhcp::Decide(
      wire::BuildEthernetUdp(d), meta, net, config_.responder,
      {&uefi_history_, now_ms, config_.responder.uefi_adaptive_window_ms});
  DryRun out;
  if (auto* reply = std::get_if<proxydhcp::Reply>(&decision)) {
    const wire::MacAddr mac = reply->message.mac();
    if (reply->src_port == proxydhcp::kPxeBinlPort) {
      uefi_history_.Reached(mac);
    }
    if (reply->uefi_strategy) {
      uefi_history_.Offered(mac, reply->message.xid, *reply->uefi_strategy,
                            now_ms);
    }
    out.answers = true;
    out.reply = std::move(*reply);
  } else {
    out.ignore_reason = proxydhcp::IgnoreReasonName(
        std::get<proxydhcp::Ignore>(decision).reason);
  }
  return out;
}

void TimelineBuilder::AddDhcp(const Frame& f, const Packet& p, bool binl) {
  absl::StatusOr<wire::DhcpMessage> m = wire::ParseDhcp(p.payload);
  if (!m.ok()) {
    ++t_.decode_errors;
    if (t_.error_samples.size() < kMaxErrorSamples) {
      t_.error_samples.emplace_back(f.number,
                                    std::string(m.status().message()));
    }
    // From a client already seen: on its timeline, where it explains a gap.
    auto known = p.has_macs ? by_mac_.find(p.src_mac) : by_mac_.end();
    if (known != by_mac_.end()) {
      t_.clients[known->second].events.push_back(
          Event{f.number, f.time,
                MalformedEvent{absl::StrCat("DHCP that cannot be parsed: ",
                                            m.status().message())}});
    }
    return;
  }
  DhcpEvent e;
  e.msg = std::move(*m);
  e.type = e.msg.message_type().value_or(0);
  e.binl = binl;
  e.src_ip = p.src_ip;
  e.dst_ip = p.dst_ip;
  e.src_port = p.src_port;
  e.dst_port = p.dst_port;
  const size_t c = ClientFor(e.msg.mac());
  if (e.msg.op == wire::kBootRequest) {
    e.role = Role::kClient;
    e.client = proxydhcp::Classify(e.msg, config_.responder.classify);
    if (e.client) t_.clients[c].boot_client = true;
    const bool to_binl = binl && p.dst_port == proxydhcp::kPxeBinlPort;
    if (e.client && (to_binl || e.type == wire::kDiscover)) {
      e.dry_run = RunDry(e, p, f.time);
    }
    LearnIp(c, e.msg.ciaddr);
    LearnIp(c, e.msg.options.GetIpv4(50).value_or(0));
    uefi_history_.LearnAddress(
        e.msg.mac(), e.msg.options.GetIpv4(50).value_or(e.msg.ciaddr));
    if (binl || e.msg.giaddr == 0) LearnIp(c, p.src_ip);
    if (!binl) last_request_[{c, e.msg.xid}] = e.type;
  } else {
    auto asked = last_request_.find({c, e.msg.xid});
    const bool proxy = IsProxyReply(e, !binl && asked != last_request_.end() &&
                                           asked->second == wire::kInform);
    e.role = proxy ? Role::kProxy : Role::kCorporate;
    if (proxy && known_proxies_.insert(e.server_id()).second) {
      t_.proxies.push_back(e.server_id());
    }
    if (!binl) LearnIp(c, e.msg.yiaddr);
  }
  ClientTimeline& client = t_.clients[c];
  if (client.events.size() >=
      (client.boot_client ? kMaxClientEvents : kMaxOtherClientEvents)) {
    ++t_.events_dropped;
    return;
  }
  client.events.push_back(Event{f.number, f.time, std::move(e)});
}

void TimelineBuilder::AddHttp(const Frame& f, const Packet& p) {
  std::optional<HttpRequest> req = ParseHttpRequest(p.payload);
  if (!req) return;
  std::optional<size_t> c = ClientByIp(p.src_ip);
  if (!c) return;
  t_.clients[*c].events.push_back(
      Event{f.number, f.time, HttpEvent{*req, p.dst_ip, p.dst_port}});
}

Timeline TimelineBuilder::Finish() && {
  for (ClientTimeline& c : t_.clients) {
    for (size_t i = 0; i < c.transfers.size(); ++i) {
      const TftpTransfer& t = c.transfers[i];
      if (t.error) continue;  // the ERROR is already on the timeline
      TftpEvent end{t.done ? TftpStep::kDone : TftpStep::kStalled,
                    static_cast<int>(i), t.rrq, false};
      c.events.push_back(t.done ? Event{t.end_number, t.end_time, end}
                                : Event{t.last_number, t.last_time, end});
    }
    std::stable_sort(
        c.events.begin(), c.events.end(),
        [](const Event& a, const Event& b) { return a.number < b.number; });
  }
  Timeline out = std::move(t_);
  std::vector<ClientTimeline> boot;
  for (ClientTimeline& c : out.clients) {
    if (c.boot_client) {
      boot.push_back(std::move(c));
    } else {
      ++out.other_dhcp_clients;
    }
  }
  out.clients = std::move(boot);
  return out;
}

}  // namespace capture
