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
  const bool request = p.payload.size() >= 2 && p.payload[0] == 0 &&
                       (p.payload[1] == kTftpRrq || p.payload[1] == kTftpWrq);
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

void TimelineBuilder::AddTftpRequest(const Frame& f, const Packet& p) {
  absl::StatusOr<TftpPacket> tftp = ParseTftp(p.payload, p.payload_length);
  if (!tftp.ok() || (tftp->op != kTftpRrq && tftp->op != kTftpWrq)) return;
  uefi_history_.ReachedFrom(p.src_ip);
  std::optional<size_t> c = ClientByIp(p.src_ip);
  if (!c && p.has_macs) {
    c = ClientFor(p.src_mac);
    LearnIp(*c, p.src_ip);
  }
  if (!c) return;
  ClientTimeline& client = t_.clients[*c];
  auto key = std::make_pair(p.src_ip, p.src_port);
  auto known = transfers_.find(key);
  if (known != transfers_.end() && known->second.client == *c) {
    TftpTransfer& old = client.transfers[known->second.transfer];
    // A retransmission: the server has not answered, or answered (pxeproxy
    // resends its OACK from the same port) and nothing moved yet.
    const bool moving = old.acked_block0 || old.acked_block1 ||
                        old.blocks > 0 || old.error || old.done;
    if (old.filename == tftp->filename && (!old.reply_ip || !moving)) {
      ++old.rrq_count;
      old.last_number = f.number;
      old.last_time = f.time;
      return;
    }
  }
  TftpTransfer t;
  t.rrq_number = t.last_number = f.number;
  t.rrq_time = t.last_time = f.time;
  t.rrq_count = 1;
  t.client_ip = p.src_ip;
  t.client_port = p.src_port;
  t.server_ip = p.dst_ip;
  t.filename = tftp->filename;
  t.rrq = *tftp;
  transfers_[key] = {*c, client.transfers.size()};
  by_source_[{*c, t.server_ip}].insert(client.transfers.size());
  client.transfers.push_back(std::move(t));
  client.events.push_back(Event{
      f.number, f.time,
      TftpEvent{TftpStep::kRrq, static_cast<int>(client.transfers.size() - 1),
                *tftp, true}});
}

namespace {

void OnData(const Frame& f, uint16_t block, size_t size, TftpTransfer& t) {
  if (block != static_cast<uint16_t>(t.last_block + 1)) return;
  t.last_block = block;
  t.bytes += size;
  ++t.blocks;
  if (size < t.blksize && !t.done) {
    t.done = true;
    t.end_number = f.number;
    t.end_time = f.time;
  }
}

void OnServerPacket(const Frame& f, const Packet& p, const TftpPacket& tftp,
                    TftpTransfer& t) {
  if (tftp.op == kTftpOack) {
    t.oack_number = f.number;
    t.oack_time = f.time;
    if (auto b = TftpOption(tftp, "blksize")) {
      size_t v = 0;
      for (char ch : *b) v = ch >= '0' && ch <= '9' ? v * 10 + (ch - '0') : v;
      if (v > 0 && v <= 65464) t.blksize = v;
    }
  } else if (tftp.op == kTftpData) {
    // A capture on the sending host sees a UDP GSO window (pxeproxy sends
    // windows with UDP_SEGMENT) as one datagram before the kernel cuts it
    // into DATA packets of blksize + 4 bytes, each with its own header.
    const size_t segment = t.blksize + 4;
    const size_t wire = tftp.data_size + 4;
    const size_t count = wire > segment ? (wire + segment - 1) / segment : 1;
    for (size_t i = 0; i < count; ++i) {
      OnData(f, static_cast<uint16_t>(tftp.block + i),
             std::min(segment, wire - i * segment) - 4, t);
    }
  } else if (tftp.op == kTftpError) {
    t.error = true;
    t.error_code = tftp.error_code;
  }
}

void OnClientPacket(const TftpPacket& tftp, TftpTransfer& t) {
  if (tftp.op == kTftpAck) {
    if (tftp.block == 0) t.acked_block0 = true;
    if (tftp.block >= 1) t.acked_block1 = true;
  } else if (tftp.op == kTftpError) {
    t.error = true;
    t.error_from_client = true;
    t.error_code = tftp.error_code;
    // EDK2 asks tsize=0, reads the size from the OACK and aborts on purpose
    // (PROTOCOL.md section 8): not a failure.
    t.size_probe = t.oack_number != 0 && t.blocks == 0 &&
                   TftpOption(t.rrq, "tsize").has_value();
  }
}

}  // namespace

bool TimelineBuilder::AddTftpTransfer(const Frame& f, const Packet& p) {
  bool from_client = true;
  auto it = transfers_.find({p.src_ip, p.src_port});
  if (it == transfers_.end()) {
    from_client = false;
    it = transfers_.find({p.dst_ip, p.dst_port});
  }
  if (it == transfers_.end()) return false;
  ClientTimeline& client = t_.clients[it->second.client];
  TftpTransfer& t = client.transfers[it->second.transfer];
  if (from_client && t.server_port != 0 && p.dst_port != t.server_port) {
    // To another TID of the server (tftpd-hpa and dnsmasq answer a
    // retransmitted RRQ from a new port): the client's ERROR 5 "unknown
    // transfer ID" there says nothing about the transfer it keeps.
    return true;
  }
  if (!from_client && t.reply_ip &&
      (p.src_port != t.server_port || p.src_ip != *t.reply_ip)) {
    return false;  // someone else talking to that port
  }
  absl::StatusOr<TftpPacket> tftp = ParseTftp(p.payload, p.payload_length);
  if (!tftp.ok()) return true;
  if (!from_client && !t.reply_ip) {  // only a TFTP packet names the TID
    if (p.src_ip != t.server_ip) {
      by_source_[{it->second.client, t.server_ip}].erase(it->second.transfer);
      by_source_[{it->second.client, p.src_ip}].insert(it->second.transfer);
    }
    t.reply_ip = p.src_ip;
    t.server_port = p.src_port;
    t.first_reply_number = f.number;
    t.first_reply_time = f.time;
  }
  t.last_number = f.number;
  t.last_time = f.time;
  if (from_client) {
    OnClientPacket(*tftp, t);
  } else {
    OnServerPacket(f, p, *tftp, t);
  }
  if (tftp->op == kTftpOack || tftp->op == kTftpError) {
    client.events.push_back(Event{
        f.number, f.time,
        TftpEvent{tftp->op == kTftpOack ? TftpStep::kOack : TftpStep::kError,
                  static_cast<int>(it->second.transfer), *tftp, from_client}});
  }
  return true;
}

void TimelineBuilder::AddFragment(const Frame& f, const Packet& p) {
  std::optional<size_t> c = ClientByIp(p.dst_ip);
  if (!c) return;
  // The client's newest transfer whose packets come from that address.
  auto from = by_source_.find({*c, p.src_ip});
  if (from == by_source_.end() || from->second.empty()) return;
  TftpTransfer& t = t_.clients[*c].transfers[*from->second.rbegin()];
  if (t.fragments++ == 0) {
    t.first_fragment_number = f.number;
    t.first_fragment_time = f.time;
  }
  t.last_number = f.number;
  t.last_time = f.time;
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
