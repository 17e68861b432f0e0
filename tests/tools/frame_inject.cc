// A hostile LAN host for the namespace tests: sends a client frame
// from a real firmware capture onto an interface with any field forged (IP
// source, giaddr, checksums, option sizes), as many times as asked, then
// reports the proxy replies that came back on that interface.
//
//   frame_inject IFACE PCAP FRAME [options]
//     --dst_mac=MAC   Ethernet destination (default broadcast)
//     --src=IP --sport=N --dst=IP --dport=N   IPv4/UDP addresses
//     --giaddr=IP --ciaddr=IP --opt50=IP       DHCP fields
//     --opt97=N       option 97 of N bytes (RFC 3396 split when over 255)
//     --opt82=N       option 82 of N bytes
//     --no57          remove option 57 (max message size)
//     --bad_ip_csum --bad_udp_csum --zero_udp_csum
//     --xid=N         a distinct xid (and chaddr) per copy from N on
//     --count=N       copies to send (default 1)
//     --valid_every=K with --xid: only every K-th copy is a valid request;
//                     the others are malformed (random bytes over the
//                     options, truncations, lying lengths; checksums fixed
//                     so that they reach the DHCP parser). Reports how many
//                     valid ones were answered and their reply latency.
//     --listen_ms=N   how long to collect replies after sending (default 1500)
// Prints: "sent=N replies=R max_ip_len=L server_id=IP opt82=B opt97=B"
// and, with --valid_every, "valid=V answered=A p50_us=.. p99_us=..".
#include <net/if.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <unordered_map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "pcap_frames.h"
#include "proxydhcp/packet_io.h"
#include "wire/dhcp_message.h"
#include "wire/udp_frame.h"

namespace {

std::optional<std::string> Arg(const std::string& a, const char* name) {
  std::string prefix = std::string("--") + name + "=";
  if (!absl::StartsWith(a, prefix)) return std::nullopt;
  return a.substr(prefix.size());
}

wire::Ipv4 IpOrDie(const std::string& s) {
  auto ip = wire::ParseIpv4(s);
  if (!ip) {
    std::fprintf(stderr, "bad address %s\n", s.c_str());
    std::exit(2);
  }
  return *ip;
}

int IntOrDie(const std::string& s) {
  int v = 0;
  if (!absl::SimpleAtoi(s, &v)) {
    std::fprintf(stderr, "bad number %s\n", s.c_str());
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s IFACE PCAP FRAME [options]\n", argv[0]);
    return 2;
  }
  std::string err;
  auto frames = testing_util::ReadPcap(argv[2], &err);
  const int n = IntOrDie(argv[3]);
  if (n < 1 || n > static_cast<int>(frames.size())) {
    std::fprintf(stderr, "no frame %d in %s %s\n", n, argv[2], err.c_str());
    return 2;
  }
  auto udp = wire::ParseEthernetUdp(frames[n - 1].bytes);
  if (!udp.ok()) return 2;
  auto msg = wire::ParseDhcp(udp->payload);
  if (!msg.ok()) return 2;
  bool bad_ip = false, bad_udp = false, zero_udp = false;
  int count = 1, listen_ms = 1500, valid_every = 0;
  std::optional<uint32_t> xid_base;
  udp->dst_mac = wire::kMacBroadcast;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    size_t len = 0;
    if (auto v = Arg(a, "dst_mac")) {
      udp->dst_mac = wire::ParseMacPrefix(*v, &len).value_or(wire::MacAddr{});
    } else if (auto v = Arg(a, "src")) {
      udp->src_ip = IpOrDie(*v);
    } else if (auto v = Arg(a, "dst")) {
      udp->dst_ip = IpOrDie(*v);
    } else if (auto v = Arg(a, "sport")) {
      udp->src_port = static_cast<uint16_t>(IntOrDie(*v));
    } else if (auto v = Arg(a, "dport")) {
      udp->dst_port = static_cast<uint16_t>(IntOrDie(*v));
    } else if (auto v = Arg(a, "giaddr")) {
      msg->giaddr = IpOrDie(*v);
    } else if (auto v = Arg(a, "ciaddr")) {
      msg->ciaddr = IpOrDie(*v);
    } else if (auto v = Arg(a, "opt50")) {
      msg->options.SetIpv4(50, IpOrDie(*v));
    } else if (auto v = Arg(a, "opt97")) {
      msg->options.Set(97, std::vector<uint8_t>(IntOrDie(*v), 0x41));
    } else if (auto v = Arg(a, "opt82")) {
      msg->options.Set(82, std::vector<uint8_t>(IntOrDie(*v), 0x52));
    } else if (a == "--no57") {
      msg->options.Erase(57);
    } else if (a == "--bad_ip_csum") {
      bad_ip = true;
    } else if (a == "--bad_udp_csum") {
      bad_udp = true;
    } else if (a == "--zero_udp_csum") {
      zero_udp = true;
    } else if (auto v = Arg(a, "xid")) {
      xid_base = static_cast<uint32_t>(IntOrDie(*v));
    } else if (auto v = Arg(a, "valid_every")) {
      valid_every = IntOrDie(*v);
    } else if (auto v = Arg(a, "count")) {
      count = IntOrDie(*v);
    } else if (auto v = Arg(a, "listen_ms")) {
      listen_ms = IntOrDie(*v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int ifindex = static_cast<int>(if_nametoindex(argv[1]));
  auto filter = proxydhcp::CompileBpf("udp src port 67 or udp src port 4011");
  auto sock = proxydhcp::PacketSocket::Open(ifindex, *filter);
  if (!sock.ok()) {
    std::fprintf(stderr, "%s\n", std::string(sock.status().message()).c_str());
    return 2;
  }
  auto our_xid = [&](uint32_t xid) {
    if (!xid_base) return xid == msg->xid;
    return xid - *xid_base < static_cast<uint32_t>(count);
  };
  int sent = 0, replies = 0, valid = 0;
  std::unordered_map<uint32_t, std::chrono::steady_clock::time_point> sent_at;
  std::vector<double> latency_us;
  std::mt19937 rng(20261130);
  size_t max_len = 0;
  wire::Ipv4 server_id = 0;
  bool opt82 = false, opt97 = false;
  auto drain = [&] {
    for (;;) {
      auto f = (*sock)->Receive();
      if (!f.ok() || !f->has_value()) return;
      auto r = wire::ParseEthernetUdp(**f);
      if (!r.ok()) continue;
      auto rep = wire::ParseDhcp(r->payload);
      if (!rep.ok() || rep->op != wire::kBootReply || !our_xid(rep->xid)) {
        continue;
      }
      if (rep->yiaddr != 0 && r->src_port != 4011) continue;  // corporate
      ++replies;
      if (auto it = sent_at.find(rep->xid); it != sent_at.end()) {
        latency_us.push_back(std::chrono::duration<double, std::micro>(
                                 std::chrono::steady_clock::now() - it->second)
                                 .count());
        sent_at.erase(it);
      }
      max_len = std::max(max_len, r->payload.size() + 28);
      server_id = rep->options.GetIpv4(wire::kOptServerId).value_or(0);
      opt82 = opt82 || rep->options.Has(wire::kOptRelayAgent);
      opt97 = opt97 || rep->options.Has(wire::kOptClientGuid);
    }
  };
  for (int i = 0; i < count; ++i) {
    if (xid_base) {
      msg->xid = *xid_base + static_cast<uint32_t>(i);
      msg->chaddr[4] = static_cast<uint8_t>(i >> 8);
      msg->chaddr[5] = static_cast<uint8_t>(i);
    }
    udp->payload = wire::SerializeDhcp(*msg);
    std::vector<uint8_t> f = wire::BuildEthernetUdp(*udp);
    const size_t ip = 14, csum = 14 + 20 + 6;
    if (zero_udp) f[csum] = f[csum + 1] = 0;
    if (bad_udp) f[csum + 1] ^= 0x5a;
    if (bad_ip) f[ip + 10] ^= 0x5a;
    const bool is_valid = valid_every <= 0 || i % valid_every == 0;
    if (!is_valid) {
      // Malformed: bytes over the options (lengths that overrun), a cut, or
      // a DHCP header shorter than its fixed part; UDP checksum 0 and the
      // IPv4 header kept valid, so each reaches the DHCP parser.
      const size_t opts = 14 + 28 + 240;
      switch (rng() % 3) {
        case 0:
          for (int k = 0; k < 8 && f.size() > opts; ++k) {
            f[opts + rng() % (f.size() - opts)] = static_cast<uint8_t>(rng());
          }
          break;
        case 1:
          f.resize(opts + rng() % 40);
          break;
        default:
          f.resize(14 + 28 + rng() % 200);
          break;
      }
      const uint16_t udp_len = static_cast<uint16_t>(f.size() - 14 - 20);
      const uint16_t ip_len = static_cast<uint16_t>(f.size() - 14);
      f[14 + 2] = static_cast<uint8_t>(ip_len >> 8);
      f[14 + 3] = static_cast<uint8_t>(ip_len);
      f[14 + 10] = f[14 + 11] = 0;
      const uint16_t c =
          wire::InternetChecksum(absl::MakeConstSpan(f).subspan(14, 20));
      f[14 + 10] = static_cast<uint8_t>(c >> 8);
      f[14 + 11] = static_cast<uint8_t>(c);
      f[14 + 20 + 4] = static_cast<uint8_t>(udp_len >> 8);
      f[14 + 20 + 5] = static_cast<uint8_t>(udp_len);
      f[csum] = f[csum + 1] = 0;
    } else if (valid_every > 0) {
      ++valid;
      sent_at[msg->xid] = std::chrono::steady_clock::now();
    }
    if ((*sock)->Send(f).ok()) ++sent;
    if (i % 64 == 63) drain();
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(listen_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{(*sock)->fd(), POLLIN, 0};
    poll(&p, 1, 50);
    drain();
  }
  std::printf(
      "sent=%d replies=%d max_ip_len=%zu server_id=%s opt82=%d opt97=%d", sent,
      replies, max_len, wire::FormatIpv4(server_id).c_str(), opt82, opt97);
  if (valid_every > 0) {
    std::sort(latency_us.begin(), latency_us.end());
    auto pct = [&](double q) {
      return latency_us.empty()
                 ? 0.0
                 : latency_us[static_cast<size_t>(q * (latency_us.size() - 1))];
    };
    std::printf(" valid=%d answered=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f",
                valid, latency_us.size(), pct(0.5), pct(0.99), pct(1.0));
  }
  std::printf("\n");
  return 0;
}
