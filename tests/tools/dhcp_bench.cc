// Benchmark client for proxyDHCP servers (scripts/bench-proxydhcp): replays a
// firmware DISCOVER with fresh xids and MACs and measures the time to the
// proxy reply. Not a test: it prints numbers and asserts nothing.
//
//   dhcp_bench IFACE PCAP FRAME N seq    one request at a time: latency
//   dhcp_bench IFACE PCAP FRAME N burst  N requests at once: replies, rate
#include <net/if.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "pcap_frames.h"
#include "proxydhcp/packet_io.h"
#include "wire/dhcp_message.h"
#include "wire/udp_frame.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<uint8_t> Variant(const wire::UdpDatagram& base,
                             const wire::DhcpMessage& req, uint32_t i) {
  wire::DhcpMessage m = req;
  m.xid = 0x5000000 + i;
  m.chaddr[4] = static_cast<uint8_t>(i >> 8);
  m.chaddr[5] = static_cast<uint8_t>(i);
  wire::UdpDatagram d = base;
  std::copy(m.chaddr.begin(), m.chaddr.begin() + 6, d.src_mac.begin());
  d.payload = wire::SerializeDhcp(m);
  return wire::BuildEthernetUdp(d);
}

// The xid of a proxy reply (yiaddr 0, from port 67 or 4011), or 0.
uint32_t ProxyReplyXid(const std::vector<uint8_t>& frame) {
  auto udp = wire::ParseEthernetUdp(frame);
  if (!udp.ok()) return 0;
  auto m = wire::ParseDhcp(udp->payload);
  if (!m.ok() || m->op != wire::kBootReply || m->yiaddr != 0) return 0;
  return m->xid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s IFACE PCAP FRAME N seq|burst\n", argv[0]);
    return 2;
  }
  int frame_no = 0, n = 0;
  absl::SimpleAtoi(argv[3], &frame_no);
  absl::SimpleAtoi(argv[4], &n);
  const std::string mode = argv[5];
  std::string err;
  auto frames = testing_util::ReadPcap(argv[2], &err);
  if (frame_no < 1 || frame_no > static_cast<int>(frames.size())) return 2;
  auto base = wire::ParseEthernetUdp(frames[frame_no - 1].bytes);
  auto req = wire::ParseDhcp(base->payload);
  auto filter = proxydhcp::CompileBpf("udp src port 67");
  auto sock = proxydhcp::PacketSocket::Open(if_nametoindex(argv[1]), *filter);
  if (!base.ok() || !req.ok() || !sock.ok()) return 2;
  auto& s = *sock;

  std::map<uint32_t, Clock::time_point> sent;
  Clock::time_point last_reply = Clock::now();
  std::vector<double> latency_us;
  auto drain = [&](int timeout_ms) {
    pollfd p{s->fd(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return;
    for (;;) {
      auto f = s->Receive();
      if (!f.ok() || !f->has_value()) return;
      uint32_t xid = ProxyReplyXid(**f);
      auto it = sent.find(xid);
      if (it == sent.end()) continue;
      latency_us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - it->second)
              .count());
      sent.erase(it);
      last_reply = Clock::now();
    }
  };

  const auto start = Clock::now();
  if (mode == "seq") {
    for (int i = 0; i < n; ++i) {
      auto frame = Variant(*base, *req, i);
      sent[0x5000000 + i] = Clock::now();
      (void)s->Send(frame);
      auto deadline = Clock::now() + std::chrono::milliseconds(500);
      while (sent.count(0x5000000 + i) && Clock::now() < deadline) drain(50);
    }
  } else {
    for (int i = 0; i < n; ++i) {
      sent[0x5000000 + i] = Clock::now();
      (void)s->Send(Variant(*base, *req, i));
      if (i % 64 == 63) drain(0);
    }
    auto deadline = Clock::now() + std::chrono::seconds(3);
    while (!sent.empty() && Clock::now() < deadline) drain(50);
  }
  const double elapsed =
      std::chrono::duration<double>(last_reply - start).count();
  std::sort(latency_us.begin(), latency_us.end());
  auto pct = [&](double q) {
    return latency_us.empty()
               ? 0.0
               : latency_us[std::min(
                     latency_us.size() - 1,
                     static_cast<size_t>(q * latency_us.size()))];
  };
  std::printf(
      "mode=%s sent=%d replies=%zu p50_us=%.0f p90_us=%.0f p99_us=%.0f "
      "max_us=%.0f replies_per_s=%.0f\n",
      mode.c_str(), n, latency_us.size(), pct(0.5), pct(0.9), pct(0.99),
      latency_us.empty() ? 0.0 : latency_us.back(),
      latency_us.size() / elapsed);
  return 0;
}
