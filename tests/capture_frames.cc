#include "tests/capture_frames.h"

#include <pcap/pcap.h>

#include <cstdlib>
#include <iostream>

#include "proxydhcp/respond.h"

namespace capture_test {
namespace {

namespace pd = proxydhcp;

bool DhcpPort(uint16_t p) {
  return p == pd::kDhcpServerPort || p == pd::kDhcpClientPort ||
         p == pd::kPxeBinlPort;
}

}  // namespace

std::optional<wire::UdpDatagram> Udp(const Frame& f) {
  absl::StatusOr<wire::UdpDatagram> d = wire::ParseEthernetUdp(f.bytes);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::optional<wire::DhcpMessage> Dhcp(const Frame& f) {
  std::optional<wire::UdpDatagram> u = Udp(f);
  if (!u || !DhcpPort(u->src_port) || !DhcpPort(u->dst_port)) {
    return std::nullopt;
  }
  absl::StatusOr<wire::DhcpMessage> m = wire::ParseDhcp(u->payload);
  if (!m.ok()) return std::nullopt;
  return *m;
}

std::optional<wire::TftpPacket> Tftp(const Frame& f) {
  std::optional<wire::UdpDatagram> u = Udp(f);
  if (!u || DhcpPort(u->src_port) || DhcpPort(u->dst_port)) return std::nullopt;
  auto t = wire::ParseTftpPacket(u->payload, u->payload.size());
  if (!t.ok()) return std::nullopt;
  return *t;
}

bool IsDhcp(const Frame& f) { return Dhcp(f).has_value(); }

bool IsTcp(const Frame& f) {
  return f.bytes.size() > 23 && f.bytes[12] == 0x08 && f.bytes[13] == 0 &&
         f.bytes[23] == 6;
}

Pred ClientDhcp(uint8_t type) {
  return [type](const Frame& f) {
    auto m = Dhcp(f);
    return m && m->op == wire::kBootRequest && m->message_type() == type &&
           Udp(f)->dst_port == pd::kDhcpServerPort;
  };
}

Pred ProxyReply(uint8_t type) {
  return [type](const Frame& f) {
    auto m = Dhcp(f);
    return m && m->op == wire::kBootReply && m->yiaddr == 0 &&
           m->message_type() == type && Udp(f)->src_port == pd::kDhcpServerPort;
  };
}

Pred CorporateReply() {
  return [](const Frame& f) {
    auto m = Dhcp(f);
    return m && m->op == wire::kBootReply && m->yiaddr != 0 &&
           Udp(f)->src_port == pd::kDhcpServerPort;
  };
}

Pred Binl(uint8_t op) {
  return [op](const Frame& f) {
    auto m = Dhcp(f);
    auto u = Udp(f);
    return m && m->op == op &&
           (u->src_port == pd::kPxeBinlPort || u->dst_port == pd::kPxeBinlPort);
  };
}

Pred IpxeDiscover() {
  return [](const Frame& f) {
    auto m = Dhcp(f);
    return m && m->op == wire::kBootRequest &&
           m->message_type() == wire::kDiscover &&
           m->options.Has(wire::kOptIpxeEncap);
  };
}

Pred TftpOp(wire::TftpOpcode op) {
  return [op](const Frame& f) {
    auto t = Tftp(f);
    return t && t->op == op;
  };
}

size_t First(const Frames& frames, const Pred& pred, size_t from) {
  for (size_t i = from; i < frames.size(); ++i) {
    if (pred(frames[i])) return i;
  }
  std::cerr << "capture_scenarios: no frame matches after " << from << "\n";
  std::abort();
}

Frames Slice(const Frames& frames, size_t begin, size_t end) {
  return Frames(frames.begin() + begin, frames.begin() + end);
}

Frames Filter(const Frames& frames, const Pred& pred) {
  Frames out;
  for (const Frame& f : frames) {
    if (pred(f)) out.push_back(f);
  }
  return out;
}

Frame Later(const Frame& f, double seconds) {
  Frame g = f;
  g.time += absl::Microseconds(static_cast<int64_t>(seconds * 1e6));
  return g;
}

Frame WithUdp(const Frame& like, const wire::UdpDatagram& d) {
  Frame f = like;
  f.bytes = wire::BuildEthernetUdp(d);
  f.wire_length = static_cast<uint32_t>(f.bytes.size());
  return f;
}

Frame EditDhcp(
    const Frame& like,
    const std::function<void(wire::DhcpMessage&, wire::UdpDatagram&)>& edit) {
  wire::UdpDatagram u = *Udp(like);
  wire::DhcpMessage m = *Dhcp(like);
  edit(m, u);
  u.payload = wire::SerializeDhcp(m);
  return WithUdp(like, u);
}

Frame WithPayload(const Frame& like, std::vector<uint8_t> payload) {
  wire::UdpDatagram u = *Udp(like);
  u.payload = std::move(payload);
  return WithUdp(like, u);
}

Frames Moved(const Frames& block, const Frames& after, double gap) {
  absl::Duration shift = after.back().time - block.front().time +
                         absl::Microseconds(static_cast<int64_t>(gap * 1e6));
  Frames out = block;
  for (Frame& f : out) f.time += shift;
  return out;
}

Frames Concat(std::vector<Frames> parts) {
  Frames out;
  for (Frames& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> TftpRequest(
    const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<uint8_t> out = {0, 1};
  auto put = [&out](const std::string& s) {
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(0);
  };
  put(name);
  put("octet");
  for (const auto& [k, v] : options) {
    put(k);
    put(v);
  }
  return out;
}

std::vector<uint8_t> TftpError(uint16_t code, const std::string& message) {
  std::vector<uint8_t> out = {0, 5, static_cast<uint8_t>(code >> 8),
                              static_cast<uint8_t>(code)};
  out.insert(out.end(), message.begin(), message.end());
  out.push_back(0);
  return out;
}

Frames Fragmented(const Frame& like, const wire::UdpDatagram& d,
                  uint16_t ip_id) {
  std::vector<uint8_t> ip = wire::BuildIpv4Udp(d);
  const size_t header = 20, piece = 1480;  // fits a 1500-byte MTU
  Frames out;
  for (size_t at = header; at < ip.size(); at += piece) {
    size_t n = std::min(piece, ip.size() - at);
    std::vector<uint8_t> frag(ip.begin(), ip.begin() + header);
    frag.insert(frag.end(), ip.begin() + at, ip.begin() + at + n);
    const uint16_t total = static_cast<uint16_t>(frag.size());
    const uint16_t more = at + n < ip.size() ? 0x2000 : 0;
    const uint16_t field = more | static_cast<uint16_t>((at - header) / 8);
    frag[2] = total >> 8;
    frag[3] = total & 0xff;
    frag[4] = ip_id >> 8;
    frag[5] = ip_id & 0xff;
    frag[6] = field >> 8;
    frag[7] = field & 0xff;
    frag[10] = frag[11] = 0;
    uint16_t sum = wire::InternetChecksum(absl::MakeConstSpan(frag.data(), 20));
    frag[10] = sum >> 8;
    frag[11] = sum & 0xff;
    Frame f = like;
    f.bytes.assign(d.dst_mac.begin(), d.dst_mac.end());
    f.bytes.insert(f.bytes.end(), d.src_mac.begin(), d.src_mac.end());
    f.bytes.push_back(0x08);
    f.bytes.push_back(0x00);
    f.bytes.insert(f.bytes.end(), frag.begin(), frag.end());
    f.wire_length = static_cast<uint32_t>(f.bytes.size());
    out.push_back(std::move(f));
  }
  return out;
}

std::string SourceDir() { return PXEPROXY_SOURCE_DIR; }

absl::StatusOr<Frames> ReadFrames(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) return absl::NotFoundError(err);
  Frames out;
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    Frame f;
    f.number = static_cast<int>(out.size() + 1);
    f.time = absl::FromUnixMicros(int64_t{hdr->ts.tv_sec} * 1000000 +
                                  hdr->ts.tv_usec);
    f.bytes.assign(data, data + hdr->caplen);
    f.wire_length = hdr->len;
    out.push_back(std::move(f));
  }
  pcap_close(p);
  return out;
}

absl::Status WriteFrames(const std::string& path, const Frames& frames) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* dump = pcap_dump_open(dead, path.c_str());
  if (dump == nullptr) {
    std::string err = pcap_geterr(dead);
    pcap_close(dead);
    return absl::InternalError(path + ": " + err);
  }
  for (const Frame& f : frames) {
    pcap_pkthdr hdr{};
    int64_t us = absl::ToUnixMicros(f.time);
    hdr.ts.tv_sec = us / 1000000;
    hdr.ts.tv_usec = us % 1000000;
    hdr.caplen = static_cast<uint32_t>(f.bytes.size());
    hdr.len = std::max<uint32_t>(f.wire_length, hdr.caplen);
    pcap_dump(reinterpret_cast<u_char*>(dump), &hdr, f.bytes.data());
  }
  pcap_dump_close(dump);
  pcap_close(dead);
  return absl::OkStatus();
}

}  // namespace capture_test
