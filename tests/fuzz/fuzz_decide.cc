// proxydhcp::Decide, the one entry of the proxyDHCP core, over a fixed host
// (tests/decide_test.cc's: eth0 10.231.0.1/24, eth1 10.99.0.1/24, default
// route via eth0, 10.66/16 blackholed) and one of several configurations.
//
// Input: byte 0 picks the configuration, byte 1 the receive metadata and
// eth0's MTU, byte 2 the frame's form:
//  - even: the rest is an Ethernet frame; when byte 2 & 2, its IPv4 header
//    checksum is recomputed and its UDP checksum zeroed ("none"), so that
//    mutated frames get past the checksum check;
//  - odd: a frame is built from chosen addresses and ports (bytes 3..) around
//    the rest as the DHCP payload (valid checksums).
// Properties of every Reply: its bytes parse back (an Ethernet frame when
// broadcast, else an IPv4 packet) with verifying checksums, from one of our
// addresses, on the receiving interface; its payload is a BOOTREPLY that
// fits MaxReplyIpSize(request, mtu) - 28; a unicast never goes to a martian
// address or to one of ours.
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/netstate.h"
#include "wire/udp_frame.h"

namespace {

using namespace proxydhcp;

wire::Ipv4 Ip(const char* s) { return wire::ParseIpv4(s).value(); }

constexpr int kEth0 = 2;
constexpr int kEth1 = 3;
const wire::MacAddr kOurMac = {0x42, 0x64, 0xbd, 0xdc, 0x90, 0x37};

NetSnapshot Net(int mtu) {
  NetSnapshot net;
  InterfaceInfo& eth0 = net.interfaces[kEth0];
  eth0.index = kEth0;
  eth0.name = "eth0";
  eth0.mac = kOurMac;
  eth0.mtu = mtu;
  eth0.up = true;
  eth0.ipv4.push_back({Ip("10.231.0.1"), 24});
  eth0.ipv4.push_back({Ip("10.232.0.1"), 16, true});
  InterfaceInfo& eth1 = net.interfaces[kEth1];
  eth1.index = kEth1;
  eth1.name = "eth1";
  eth1.up = true;
  eth1.ipv4.push_back({Ip("10.99.0.1"), 24});
  net.routes = RouteTable({{Ip("10.231.0.0"), 24, {kEth0}},
                           {Ip("10.232.0.0"), 16, {kEth0}},
                           {Ip("10.99.0.0"), 24, {kEth1}},
                           {Ip("10.66.0.0"), 16, {}, false},
                           {0, 0, {kEth0}}});
  return net;
}

std::vector<ResponderConfig> Configs() {
  std::vector<ResponderConfig> out;
  ResponderConfig base;
  base.boot_files[BootArch::kBios] = "undionly.kpxe";
  base.boot_files[BootArch::kEfiX64] = "snponly.efi";
  base.menu_url = "http://10.231.0.1/menu.ipxe";
  // 0: BIOS only, the embedded menu over our TFTP.
  ResponderConfig bios;
  bios.boot_files[BootArch::kBios] = "undionly.kpxe";
  out.push_back(bios);
  // 1: UEFI answered on 4011 (binl), every arch.
  ResponderConfig binl = base;
  binl.boot_files[BootArch::kEfiIa32] = "ipxe-i386.efi";
  binl.boot_files[BootArch::kEfiArm64] = "snp-arm64.efi";
  out.push_back(binl);
  // 2: UEFI bypass (43 = {6: 8}), no 175.1, another TFTP server.
  ResponderConfig bypass = base;
  bypass.uefi_strategy = UefiStrategy::kBypass;
  bypass.ipxe_priority = 0;
  bypass.tftp_server = Ip("10.231.0.9");
  out.push_back(bypass);
  // 3: relays and asymmetric routes: loose reverse path.
  ResponderConfig loose = base;
  loose.reverse_path = ReversePath::kLoose;
  out.push_back(loose);
  // 4: UEFI HTTP Boot, a long menu URL (only in option 67).
  ResponderConfig http = base;
  http.http_boot_url = "http://10.231.0.1/boot/ipxe.efi";
  http.menu_url = "http://10.231.0.1/" + std::string(150, 'm') +
                  "/boot.ipxe?mac=${net0/mac}";
  out.push_back(http);
  // 5: iPXE menu URL, extra user classes and vendor prefixes.
  ResponderConfig ipxe = base;
  ipxe.menu_url = "http://10.231.0.1/boot.ipxe?mac=${net0/mac}";
  ipxe.classify.ipxe_user_classes = {"gPXE", "myipxe"};
  ipxe.classify.vendor_class_prefixes = {"PXEClient", "HTTPClient",
                                         "Etherboot"};
  out.push_back(ipxe);
  // 6: MAC rules overriding the file and the UEFI strategy.
  ResponderConfig rules = base;
  MacRule a;
  a.prefix = {0x52, 0x54, 0x00, 0, 0, 0};
  a.prefix_len = 3;
  a.boot_file = "qemu.efi";
  a.uefi_strategy = UefiStrategy::kBypass;
  MacRule b;
  b.prefix = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
  b.prefix_len = 6;
  b.boot_file = "";
  rules.mac_rules = {a, b};
  out.push_back(rules);
  return out;
}

const wire::Ipv4 kSources[] = {0,
                               Ip("10.231.0.141"),
                               Ip("10.231.0.254"),
                               Ip("10.99.0.7"),
                               Ip("10.66.1.1"),
                               Ip("127.0.0.1"),
                               Ip("10.231.0.1"),
                               Ip("192.168.7.7")};
const wire::Ipv4 kDests[] = {wire::kIpv4Broadcast, Ip("10.231.0.1"),
                             Ip("10.99.0.1"), Ip("10.232.0.1"),
                             Ip("10.231.0.77")};
const uint16_t kPorts[] = {67, 68, 4011};

void FixChecksums(std::vector<uint8_t>& f) {
  size_t ip = 14;
  if (f.size() >= 18 && f[12] == 0x81 && f[13] == 0x00) ip = 18;
  if (f.size() < ip + 20) return;
  size_t ihl = (f[ip] & 0x0f) * 4u;
  if (ihl < 20 || f.size() < ip + ihl) return;
  f[ip + 10] = f[ip + 11] = 0;
  uint16_t c = wire::InternetChecksum(absl::MakeConstSpan(f).subspan(ip, ihl));
  f[ip + 10] = static_cast<uint8_t>(c >> 8);
  f[ip + 11] = static_cast<uint8_t>(c);
  if (f.size() >= ip + ihl + 8) f[ip + ihl + 6] = f[ip + ihl + 7] = 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<ResponderConfig> configs = Configs();
  fuzz::Input in(data, size);
  const ResponderConfig& config = configs[in.Pick(configs.size())];
  uint8_t m = in.U8();
  ReceiveMeta meta;
  meta.ifindex = (m & 3) == 3 ? 7 : (m & 1) ? kEth1 : kEth0;  // 7: unknown
  meta.vlan_tagged = (m & 0x1c) == 0x1c;
  meta.other_host = (m & 0x1c) == 0x18;
  meta.csum_valid = (m & 0x1c) == 0x14;
  static const NetSnapshot nets[] = {Net(1500), Net(576), Net(1280), Net(9000)};
  const NetSnapshot& net = nets[(m >> 5) & 3];

  uint8_t form = in.U8();
  std::vector<uint8_t> frame;
  if (form & 1) {
    wire::UdpDatagram d;
    uint8_t a = in.U8();
    d.src_ip = kSources[a & 7];
    d.dst_ip = kDests[(a >> 3) % 5];
    uint8_t p = in.U8();
    d.src_port = kPorts[p % 3];
    d.dst_port = (p >> 4) & 1 ? 4011 : 67;
    d.src_mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    d.dst_mac = (p >> 5) & 1 ? kOurMac : wire::kMacBroadcast;
    absl::Span<const uint8_t> rest = in.Rest();
    d.payload.assign(rest.begin(), rest.end());
    frame = wire::BuildEthernetUdp(d);
  } else {
    absl::Span<const uint8_t> rest = in.Rest();
    frame.assign(rest.begin(), rest.end());
    if (form & 2) FixChecksums(frame);
  }

  Decision d = Decide(frame, meta, net, config);
  if (const Ignore* ig = std::get_if<Ignore>(&d)) {
    FUZZ_CHECK(IgnoreReasonName(ig->reason) != nullptr);
    return 0;
  }
  const Reply& r = std::get<Reply>(d);
  FUZZ_CHECK(r.ifindex == meta.ifindex);
  FUZZ_CHECK(!r.bytes.empty());
  absl::StatusOr<wire::UdpDatagram> out = r.broadcast
                                              ? wire::ParseEthernetUdp(r.bytes)
                                              : wire::ParseIpv4Udp(r.bytes);
  FUZZ_CHECK(out.ok());
  FUZZ_CHECK(out->ip_checksum_ok && out->udp_checksum_ok);
  FUZZ_CHECK(out->udp_checksum != 0);
  FUZZ_CHECK(HasAddress(net.interfaces, out->src_ip));
  if (r.broadcast) {
    FUZZ_CHECK(out->dst_mac == wire::kMacBroadcast);
  } else {
    FUZZ_CHECK(!IsMartian(out->dst_ip));
    FUZZ_CHECK(!HasAddress(net.interfaces, out->dst_ip));
  }
  // The request as Decide saw it, for the size limit.
  absl::StatusOr<wire::UdpDatagram> req_udp = wire::ParseEthernetUdp(frame);
  FUZZ_CHECK(req_udp.ok());
  absl::StatusOr<wire::DhcpMessage> req = wire::ParseDhcp(req_udp->payload);
  FUZZ_CHECK(req.ok());
  const int if_mtu = net.interfaces.count(meta.ifindex)
                         ? net.interfaces.at(meta.ifindex).mtu
                         : 0;
  FUZZ_CHECK(out->payload.size() <= MaxReplyIpSize(*req, if_mtu) - 28);
  absl::StatusOr<wire::DhcpMessage> reply = wire::ParseDhcp(out->payload);
  FUZZ_CHECK(reply.ok());
  FUZZ_CHECK(reply->op == wire::kBootReply);
  FUZZ_CHECK(reply->xid == req->xid);
  FUZZ_CHECK(reply->chaddr == req->chaddr);
  // A proxy never hands out an address: yiaddr is 0, or on 4011 the
  // client's own ciaddr echoed (as the PXE spec's ACK does).
  FUZZ_CHECK(reply->yiaddr ==
             (out->src_port == kPxeBinlPort ? req->ciaddr : 0));
  return 0;
}
