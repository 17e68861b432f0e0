// A DHCP client stand-in for the namespace tests: replays one client packet
// from a real firmware capture onto an interface and checks, field by field,
// the proxy reply that comes back (and that the corporate server still
// answers). Prints one line per check; exits 0 only when all hold.
//
//   dhcp_probe IFACE PCAP FRAME SERVER_IP EXPECT [options]
//     EXPECT: the boot file the proxy must offer, or "none" for silence
//   options: --binl_from=IP  send the packet as a unicast to SERVER_IP:4011
//                            from IP:4011 (IP must be on IFACE)
//            --relay_from=IP,GIADDR  act as a DHCP relay: send the packet with
//                            giaddr=GIADDR, unicast from IP:67 to SERVER_IP:67;
//                            the reply must come back unicast to GIADDR:67
//            --corporate     also require a corporate offer (yiaddr != 0)
//            --wait_ms=N     how long to collect replies (default 2500)
//            --mutate        first send 64 broken copies (truncated DHCP,
//                            option lengths that overrun) the server must drop
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "pcap_frames.h"
#include "proxydhcp/describe.h"
#include "proxydhcp/packet_io.h"
#include "wire/dhcp_message.h"
#include "wire/udp_frame.h"

namespace {

using wire::DhcpMessage;

int failures = 0;
void Check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

int SendUnicast(wire::Ipv4 from, wire::Ipv4 to, uint16_t port,
                const std::vector<uint8_t>& p) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(from);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    perror("bind");
    return -1;
  }
  a.sin_addr.s_addr = htonl(to);
  if (sendto(fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&a),
             sizeof(a)) < 0) {
    perror("sendto");
  }
  return fd;  // kept open until exit so no ICMP unreachable goes back
}

void CheckProxyReply(const wire::UdpDatagram& udp,
                     const std::vector<uint8_t>& frame, const DhcpMessage& req,
                     const DhcpMessage& rep, wire::Ipv4 server,
                     const std::string& expect, bool binl, wire::Ipv4 giaddr) {
  using namespace proxydhcp;
  using namespace wire;
  std::printf("%s", DescribeMessage(rep).c_str());
  size_t ip_at = 14;
  Check(wire::VerifyIpv4UdpChecksums(absl::MakeConstSpan(frame).subspan(ip_at)),
        "IPv4 header and UDP checksums valid");
  Check(udp.src_ip == server, "source address is the server's");
  Check(udp.src_port == (binl ? 4011 : 67), "source port 67 (4011 for binl)");
  Check(udp.ttl > 1, "a TTL that survives a hop");
  if (binl) {
    Check(udp.dst_ip == req.ciaddr && udp.dst_port == 4011,
          "unicast back to the request's ip:port");
    Check(rep.message_type() == kAck, "option 53 is ACK");
    Check(rep.yiaddr == req.ciaddr, "yiaddr = ciaddr");
  } else if (giaddr != 0) {
    Check(udp.dst_ip == giaddr && udp.dst_port == 67,
          "unicast to the relay, giaddr:67");
    Check(rep.giaddr == giaddr, "giaddr echoed");
    Check(rep.message_type() == kOffer, "option 53 is OFFER");
    Check(rep.yiaddr == 0, "yiaddr is 0 (a proxy offer)");
  } else {
    Check(udp.dst_ip == wire::kIpv4Broadcast && udp.dst_port == 68,
          "broadcast to 255.255.255.255:68");
    Check(udp.dst_mac == wire::kMacBroadcast, "Ethernet broadcast");
    Check(rep.message_type() == kOffer, "option 53 is OFFER");
    Check(rep.yiaddr == 0, "yiaddr is 0 (a proxy offer)");
  }
  Check(rep.xid == req.xid && rep.chaddr == req.chaddr, "xid and chaddr echo");
  Check(rep.options.GetIpv4(kOptServerId) == server, "option 54 = server");
  auto vc = rep.options.GetString(kOptVendorClass);
  Check(vc && absl::StartsWith(*req.options.GetString(kOptVendorClass), *vc) &&
            (*vc == "PXEClient" || *vc == "HTTPClient"),
        "option 60 PXEClient / HTTPClient");
  Check(rep.options.Has(kOptClientGuid) == req.options.Has(kOptClientGuid) &&
            (!req.options.Has(kOptClientGuid) ||
             *rep.options.Get(kOptClientGuid) ==
                 *req.options.Get(kOptClientGuid)),
        "option 97 echoed verbatim");
  Check(rep.siaddr == server, "siaddr is set to the TFTP server");
  Check(rep.file == expect, "file = " + expect);
  Check(rep.options.GetString(kOptBootfileName) == expect + '\0',
        "option 67 = file, NUL-terminated");
  Check(udp.payload.size() >= kMinMessageSize, "at least 300 bytes");
  for (uint8_t c : {kOptSubnetMask, kOptRouter, kOptDns, kOptLeaseTime}) {
    Check(!rep.options.Has(c),
          "no IP configuration option " + std::to_string(c));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s IFACE PCAP FRAME SERVER EXPECT [opts]\n",
                 argv[0]);
    return 2;
  }
  const std::string iface = argv[1], pcap = argv[2], expect = argv[5];
  int frame_no = 0;
  absl::SimpleAtoi(argv[3], &frame_no);
  const wire::Ipv4 server = wire::ParseIpv4(argv[4]).value_or(0);
  std::optional<wire::Ipv4> binl_from;
  wire::Ipv4 relay_from = 0, giaddr = 0;
  bool want_corporate = false;
  bool mutate = false;
  int wait_ms = 2500;
  for (int i = 6; i < argc; ++i) {
    std::string a = argv[i];
    if (absl::StartsWith(a, "--binl_from="))
      binl_from = wire::ParseIpv4(a.substr(12));
    if (absl::StartsWith(a, "--relay_from=")) {
      std::string v = a.substr(13);
      relay_from = wire::ParseIpv4(v.substr(0, v.find(','))).value_or(0);
      giaddr = wire::ParseIpv4(v.substr(v.find(',') + 1)).value_or(0);
    }
    if (a == "--corporate") want_corporate = true;
    if (a == "--mutate") mutate = true;
    if (absl::StartsWith(a, "--wait_ms="))
      absl::SimpleAtoi(a.substr(10), &wait_ms);
  }
  std::string err;
  auto frames = testing_util::ReadPcap(pcap, &err);
  if (frame_no < 1 || frame_no > static_cast<int>(frames.size())) {
    std::fprintf(stderr, "no frame %d in %s %s\n", frame_no, pcap.c_str(),
                 err.c_str());
    return 2;
  }
  const std::vector<uint8_t>& raw = frames[frame_no - 1].bytes;
  auto req_udp = wire::ParseEthernetUdp(raw);
  auto req = wire::ParseDhcp(req_udp->payload);
  if (!req_udp.ok() || !req.ok()) return 2;

  int ifindex = if_nametoindex(iface.c_str());
  auto filter = proxydhcp::CompileBpf("udp src port 67 or udp src port 4011");
  auto sock = proxydhcp::PacketSocket::Open(ifindex, *filter);
  if (!sock.ok()) {
    std::fprintf(stderr, "%s\n", std::string(sock.status().message()).c_str());
    return 2;
  }
  if (mutate) {
    for (int i = 0; i < 64; ++i) {
      wire::UdpDatagram bad = *req_udp;
      if (i % 2 == 0) {
        bad.payload.resize((i * 37) % 240);  // shorter than the fixed header
      } else if (bad.payload.size() > 250) {
        bad.payload.resize(250 + i);  // cut inside the options
        bad.payload[244] = 60;
        bad.payload[245] = 255;  // option 60 claims 255 bytes
      }
      (void)(*sock)->Send(wire::BuildEthernetUdp(bad));
    }
    std::printf("sent 64 malformed copies first\n");
  }
  int keep = -1;
  if (binl_from) {
    req->ciaddr = *binl_from;
    keep = SendUnicast(*binl_from, server, 4011, wire::SerializeDhcp(*req));
  } else if (giaddr != 0) {
    req->giaddr = giaddr;
    req->hops = 1;
    keep = SendUnicast(relay_from, server, 67, wire::SerializeDhcp(*req));
  } else {
    auto sent = (*sock)->Send(raw);
    if (!sent.ok()) return 2;
  }
  std::printf("sent frame #%d of %s (xid 0x%08x, %s)\n", frame_no, pcap.c_str(),
              req->xid, req->options.GetString(60).value_or("?").c_str());

  int proxy_replies = 0, corporate = 0;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{(*sock)->fd(), POLLIN, 0};
    poll(&p, 1, 100);
    for (;;) {
      auto f = (*sock)->Receive();
      if (!f.ok() || !f->has_value()) break;
      auto udp = wire::ParseEthernetUdp(**f);
      if (!udp.ok()) continue;
      auto rep = wire::ParseDhcp(udp->payload);
      if (!rep.ok() || rep->op != wire::kBootReply || rep->xid != req->xid) {
        continue;
      }
      // A proxy reply has yiaddr 0 (the corporate server's NAK does too).
      const bool is_proxy =
          udp->src_port == 4011 ||
          (rep->yiaddr == 0 && rep->message_type() != wire::kNak);
      if (is_proxy) {
        ++proxy_replies;
        std::printf("-- proxy reply from %s:%d\n",
                    wire::FormatIpv4(udp->src_ip).c_str(), udp->src_port);
        if (expect != "none") {
          CheckProxyReply(*udp, **f, *req, *rep, server, expect,
                          binl_from.has_value(), giaddr);
        }
      } else {
        ++corporate;
        std::printf("-- corporate %s from %s: yiaddr %s\n",
                    wire::MessageTypeName(rep->message_type().value_or(0)),
                    wire::FormatIpv4(udp->src_ip).c_str(),
                    wire::FormatIpv4(rep->yiaddr).c_str());
      }
    }
  }
  if (expect == "none") {
    Check(proxy_replies == 0, "no proxy reply");
  } else {
    Check(proxy_replies == 1, "exactly one proxy reply (got " +
                                  std::to_string(proxy_replies) + ")");
  }
  if (want_corporate)
    Check(corporate >= 1, "the corporate server answered too");
  if (keep >= 0) close(keep);
  return failures == 0 ? 0 : 1;
}
