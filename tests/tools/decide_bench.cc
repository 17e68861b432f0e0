// The pure proxyDHCP path per request, before and after Decide (hostile LAN):
//   decide_bench PCAP FRAME N old|new
// old: what HandleFrame did before Decide existed (parse frame, parse DHCP,
//      Respond, serialize, build the reply frame);
// new: Decide (the same, plus checksums, source and giaddr checks, the
//      reverse-path lookup, the size check).
// Prints ns per request; run under `valgrind --tool=callgrind` for an
// instruction count that does not depend on the machine's load
// (scripts/bench-proxydhcp does both; numbers in BENCHMARKS.md).
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "pcap_frames.h"
#include "proxydhcp/decide.h"
#include "wire/udp_frame.h"

namespace {

using namespace proxydhcp;

wire::Ipv4 Ip(const char* s) { return wire::ParseIpv4(s).value(); }

size_t OldPath(absl::Span<const uint8_t> frame, const ResponderConfig& c) {
  auto udp = wire::ParseEthernetUdp(frame);
  if (!udp.ok()) return 0;
  auto req = wire::ParseDhcp(udp->payload);
  if (!req.ok()) return 0;
  RequestContext ctx{udp->dst_port, udp->src_ip, udp->src_port,
                     Ip("10.231.0.1")};
  Decision d = Respond(*req, ctx, c);
  auto* r = std::get_if<Reply>(&d);
  if (r == nullptr) return 0;
  wire::UdpDatagram out;
  out.src_ip = r->src_ip;
  out.dst_ip = r->dst_ip;
  out.src_port = r->src_port;
  out.dst_port = r->dst_port;
  out.payload = wire::SerializeDhcp(r->message);
  return r->broadcast ? wire::BuildEthernetUdp(out).size()
                      : wire::BuildIpv4Udp(out).size();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s PCAP FRAME N old|new\n", argv[0]);
    return 2;
  }
  std::string err;
  auto frames = testing_util::ReadPcap(argv[1], &err);
  int frame_no = 0, n = 0;
  if (!absl::SimpleAtoi(argv[2], &frame_no) || !absl::SimpleAtoi(argv[3], &n) ||
      frame_no < 1 || frame_no > static_cast<int>(frames.size())) {
    std::fprintf(stderr, "bad frame or count %s\n", err.c_str());
    return 2;
  }
  const std::vector<uint8_t>& frame = frames[frame_no - 1].bytes;
  const bool old_path = std::string(argv[4]) == "old";
  ResponderConfig config;
  config.boot_files[BootArch::kBios] = "undionly.kpxe";
  config.boot_files[BootArch::kEfiX64] = "snponly.efi";
  config.menu_url = "http://10.231.0.1/menu.ipxe";
  NetSnapshot net;
  InterfaceInfo& eth = net.interfaces[2];
  eth.index = 2;
  eth.ipv4.push_back({Ip("10.231.0.1"), 24});
  net.routes = RouteTable({{Ip("10.231.0.0"), 24, {2}}, {0, 0, {2}}});
  ReceiveMeta meta;
  meta.ifindex = 2;
  size_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (old_path) {
      bytes += OldPath(frame, config);
    } else {
      Decision d = Decide(frame, meta, net, config);
      if (auto* r = std::get_if<Reply>(&d)) bytes += r->bytes.size();
    }
  }
  double ns = std::chrono::duration<double, std::nano>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
  std::printf("path=%s frame=%d n=%d ns_per_request=%.0f reply_bytes=%zu\n",
              argv[4], frame_no, n, ns / n, n > 0 ? bytes / n : 0);
  return bytes > 0 ? 0 : 1;
}
