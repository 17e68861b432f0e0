// Decide, the proxyDHCP core's one entry, on frames an attacker on the LAN
// can send (hostile LAN): martian and spoofed sources, relay addresses pointing
// into this host, reverse-path failures, bad checksums, replies grown past
// what the client accepts. Each row starts from a real EDK2 frame
// (tests/fixtures/captures) and changes one thing.
#include "proxydhcp/decide.h"

#include <functional>

#include "gtest/gtest.h"
#include "pcap_frames.h"
#include "proxydhcp/describe.h"
#include "wire/udp_frame.h"

namespace proxydhcp {
namespace {

wire::Ipv4 Ip(const char* s) { return wire::ParseIpv4(s).value(); }

constexpr int kEth0 = 2;
constexpr int kEth1 = 3;
const wire::MacAddr kOurMac = {0x42, 0x64, 0xbd, 0xdc, 0x90, 0x37};

// This host: eth0 10.231.0.1/24 (the captures' proxy) and eth1 10.99.0.1/24,
// default route through eth0, 10.66.0.0/16 blackholed.
NetSnapshot Net() {
  NetSnapshot net;
  InterfaceInfo& eth0 = net.interfaces[kEth0];
  eth0.index = kEth0;
  eth0.name = "eth0";
  eth0.mac = kOurMac;
  eth0.ipv4.push_back({Ip("10.231.0.1"), 24});
  InterfaceInfo& eth1 = net.interfaces[kEth1];
  eth1.index = kEth1;
  eth1.name = "eth1";
  eth1.ipv4.push_back({Ip("10.99.0.1"), 24});
  net.routes = RouteTable({{Ip("10.231.0.0"), 24, {kEth0}},
                           {Ip("10.99.0.0"), 24, {kEth1}},
                           {Ip("10.66.0.0"), 16, {}, false},
                           {0, 0, {kEth0}}});
  return net;
}

ResponderConfig Config() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  c.menu_url = "http://10.231.0.1/menu.ipxe";
  return c;
}

// Frame `n` (1-based) of the EDK2 capture, parsed.
struct Parts {
  wire::UdpDatagram udp;
  wire::DhcpMessage msg;
};
Parts Frame(int n) {
  std::string err;
  auto frames = testing_util::ReadPcap(
      testing_util::SourceDir() +
          "/tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap",
      &err);
  EXPECT_TRUE(err.empty()) << err;
  Parts p;
  p.udp = wire::ParseEthernetUdp(frames.at(n - 1).bytes).value();
  p.msg = wire::ParseDhcp(p.udp.payload).value();
  return p;
}
Parts Discover() { return Frame(8); }  // 0.0.0.0:68 -> broadcast:67
Parts Binl() { return Frame(18); }     // 10.231.0.141:4011 -> .1:4011

std::vector<uint8_t> Build(Parts p) {
  p.udp.payload = wire::SerializeDhcp(p.msg);
  return wire::BuildEthernetUdp(p.udp);
}

struct Row {
  std::string name;
  std::function<std::vector<uint8_t>()> frame;
  std::string want;  // "reply" or an ignore reason name
  std::function<void(ReceiveMeta&, ResponderConfig&, NetSnapshot&)> setup;
  std::function<void(const Reply&)> check;
};

std::function<std::vector<uint8_t>()> BinlFrom(const char* src) {
  return [src] {
    Parts p = Binl();
    p.udp.src_ip = Ip(src);
    return Build(p);
  };
}
std::function<std::vector<uint8_t>()> RelayedVia(const char* giaddr) {
  return [giaddr] {
    Parts p = Discover();
    p.msg.giaddr = Ip(giaddr);
    p.udp.src_ip = Ip("10.231.0.254");  // the relay's own address
    p.udp.dst_ip = Ip("10.231.0.1");
    p.udp.src_port = 67;
    return Build(p);
  };
}
std::vector<uint8_t> WithUdpChecksum(std::vector<uint8_t> f, uint16_t c) {
  f[14 + 20 + 6] = static_cast<uint8_t>(c >> 8);
  f[14 + 20 + 7] = static_cast<uint8_t>(c);
  return f;
}
// 255 bytes of option 82 and the longest boot file a flag allows.
Parts Bloated() {
  Parts p = Discover();
  p.msg.options.Set(wire::kOptRelayAgent, std::vector<uint8_t>(255, 0x61));
  p.msg.options.Erase(wire::kOptMaxMessageSize);  // EDK2 sends 57 = 1472
  return p;
}

std::vector<Row> Rows() {
  return {
      {"discover_answered", [] { return Build(Discover()); }, "reply", nullptr,
       [](const Reply& r) {
         EXPECT_TRUE(r.broadcast);
         EXPECT_EQ(r.ifindex, kEth0);
         auto back = wire::ParseEthernetUdp(r.bytes).value();
         EXPECT_EQ(back.src_mac, kOurMac);
         EXPECT_EQ(back.dst_mac, wire::kMacBroadcast);
         EXPECT_EQ(back.src_ip, Ip("10.231.0.1"));
         EXPECT_EQ(back.dst_port, 68);
         EXPECT_TRUE(back.ip_checksum_ok && back.udp_checksum_ok);
       }},
      {"binl_answered", [] { return Build(Binl()); }, "reply", nullptr,
       [](const Reply& r) {
         EXPECT_FALSE(r.broadcast);
         auto back = wire::ParseIpv4Udp(r.bytes).value();
         EXPECT_EQ(back.dst_ip, Ip("10.231.0.141"));
         EXPECT_EQ(back.src_port, 4011);
       }},
      // Hole 1: a reply into this host's own services.
      {"binl_from_loopback", BinlFrom("127.0.0.1"), "bad_source"},
      {"binl_from_our_address", BinlFrom("10.231.0.1"), "bad_source"},
      {"binl_from_our_other_address", BinlFrom("10.99.0.1"), "bad_source"},
      {"binl_from_broadcast", BinlFrom("255.255.255.255"), "bad_source"},
      {"binl_from_multicast", BinlFrom("224.0.0.251"), "bad_source"},
      {"binl_from_unspecified", BinlFrom("0.0.0.0"), "bad_source"},
      {"binl_from_zero_network", BinlFrom("0.1.2.3"), "bad_source"},
      {"binl_from_reserved", BinlFrom("240.0.0.1"), "bad_source"},
      {"binl_from_other_interface_subnet", BinlFrom("10.99.0.7"),
       "reverse_path"},
      {"binl_from_blackholed", BinlFrom("10.66.1.1"), "reverse_path"},
      {"binl_from_other_interface_loose", BinlFrom("10.99.0.7"), "reply",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot&) {
         c.reverse_path = ReversePath::kLoose;
       }},
      {"binl_from_blackholed_loose", BinlFrom("10.66.1.1"), "reverse_path",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot&) {
         c.reverse_path = ReversePath::kLoose;
       }},
      {"binl_no_route_back", BinlFrom("192.168.9.9"), "reverse_path",
       [](ReceiveMeta&, ResponderConfig&, NetSnapshot& n) {
         n.routes = RouteTable({{Ip("10.231.0.0"), 24, {kEth0}}});
       }},
      {"binl_routed_peer", BinlFrom("192.168.9.9"), "reply"},
      {"discover_from_loopback",
       [] {
         Parts p = Discover();
         p.udp.src_ip = Ip("127.0.0.1");
         return Build(p);
       },
       "bad_source"},
      {"relay_loopback", RelayedVia("127.0.0.1"), "bad_relay_address"},
      {"relay_is_us", RelayedVia("10.231.0.1"), "bad_relay_address"},
      {"relay_multicast", RelayedVia("224.0.0.1"), "bad_relay_address"},
      {"relay_broadcast", RelayedVia("255.255.255.255"), "bad_relay_address"},
      {"relay_unspecified_net", RelayedVia("0.0.0.9"), "bad_relay_address"},
      {"relay_through_other_interface", RelayedVia("10.99.0.9"),
       "reverse_path"},
      {"relay_routed", RelayedVia("10.40.0.1"), "reply", nullptr,
       [](const Reply& r) {
         EXPECT_FALSE(r.broadcast);
         auto back = wire::ParseIpv4Udp(r.bytes).value();
         EXPECT_EQ(back.dst_ip, Ip("10.40.0.1"));
         EXPECT_EQ(back.dst_port, 67);
       }},
      // Hole 2: checksums.
      {"ip_header_checksum_bad",
       [] {
         auto f = Build(Discover());
         f[14 + 10] ^= 0x01;
         return f;
       },
       "bad_checksum"},
      {"udp_checksum_bad",
       [] {
         auto f = Build(Discover());
         f[14 + 20 + 8 + 28] ^= 0x01;  // chaddr: the MAC we would answer
         return f;
       },
       "bad_checksum"},
      {"udp_checksum_zero_is_none",
       [] {
         auto f = Build(Discover());
         f[14 + 20 + 8 + 28] ^= 0x01;
         return WithUdpChecksum(f, 0);
       },
       "reply"},
      {"udp_checksum_partial_from_this_host",
       [] { return WithUdpChecksum(Build(Discover()), 0x1234); }, "reply",
       [](ReceiveMeta& m, ResponderConfig&, NetSnapshot&) {
         m.csum_not_ready = true;
       }},
      {"udp_checksum_verified_by_nic",
       [] { return WithUdpChecksum(Build(Discover()), 0x1234); }, "reply",
       [](ReceiveMeta& m, ResponderConfig&, NetSnapshot&) {
         m.csum_valid = true;
       }},
      {"vlan_tagged", [] { return Build(Discover()); }, "vlan_tagged",
       [](ReceiveMeta& m, ResponderConfig&, NetSnapshot&) {
         m.vlan_tagged = true;
       }},
      {"other_host", [] { return Build(Binl()); }, "not_addressed_to_us",
       [](ReceiveMeta& m, ResponderConfig&, NetSnapshot&) {
         m.other_host = true;
       }},
      {"unicast_to_another_host",
       [] {
         Parts p = Binl();
         p.udp.dst_ip = Ip("10.231.0.9");
         return Build(p);
       },
       "not_addressed_to_us"},
      // Review: a request to an address of another interface, or to
      // 127.0.0.1, is not ours to answer (it would leak and use it).
      {"unicast_to_our_other_interface",
       [] {
         Parts p = Binl();
         p.udp.dst_ip = Ip("10.99.0.1");
         return Build(p);
       },
       "not_addressed_to_us"},
      {"unicast_to_our_other_interface_loose",
       [] {
         Parts p = Binl();
         p.udp.dst_ip = Ip("10.99.0.1");
         return Build(p);
       },
       "reply",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot&) {
         c.reverse_path = ReversePath::kLoose;
       },
       [](const Reply& r) { EXPECT_EQ(r.src_ip, Ip("10.99.0.1")); }},
      {"unicast_to_loopback",
       [] {
         Parts p = Binl();
         p.udp.dst_ip = Ip("127.0.0.1");
         return Build(p);
       },
       "not_addressed_to_us",
       [](ReceiveMeta&, ResponderConfig&, NetSnapshot& n) {
         n.interfaces[kEth0].ipv4.push_back({Ip("127.0.0.1"), 8});
       }},
      {"binl_from_subnet_broadcast", BinlFrom("10.231.0.255"), "bad_source"},
      {"relay_subnet_broadcast", RelayedVia("10.231.0.255"),
       "bad_relay_address"},
      {"relay_other_subnet_broadcast", RelayedVia("10.99.0.255"),
       "bad_relay_address"},
      {"truncated_frame",
       [] {
         auto f = Build(Discover());
         f.resize(40);
         return f;
       },
       "malformed"},
      // Hole 3: reply size.
      {"option_97_oversized_not_echoed",
       [] {
         Parts p = Discover();
         p.msg.options.Set(wire::kOptClientGuid,
                           std::vector<uint8_t>(960, 0x41));
         return Build(p);
       },
       "reply", nullptr,
       [](const Reply& r) {
         EXPECT_FALSE(r.message.options.Has(wire::kOptClientGuid));
         EXPECT_LE(r.bytes.size(), 14u + 576u);
       }},
      {"option_97_wrong_type_not_echoed",
       [] {
         Parts p = Discover();
         std::vector<uint8_t> g(17, 0x41);
         p.msg.options.Set(wire::kOptClientGuid, g);
         return Build(p);
       },
       "reply", nullptr,
       [](const Reply& r) {
         EXPECT_FALSE(r.message.options.Has(wire::kOptClientGuid));
       }},
      {"option_97_well_formed_echoed", [] { return Build(Discover()); },
       "reply", nullptr,
       [](const Reply& r) {
         auto g = r.message.options.Get(wire::kOptClientGuid);
         ASSERT_TRUE(g);
         EXPECT_EQ(g->size(), 17u);
       }},
      {"reply_over_576_refused", [] { return Build(Bloated()); },
       "reply_too_large",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot&) {
         c.boot_files[BootArch::kEfiX64] = std::string(254, 'f');
       }},
      {"reply_over_576_allowed_by_option_57",
       [] {
         Parts p = Bloated();
         p.msg.options.SetU16(wire::kOptMaxMessageSize, 1500);
         return Build(p);
       },
       "reply",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot&) {
         c.boot_files[BootArch::kEfiX64] = std::string(254, 'f');
       },
       [](const Reply& r) { EXPECT_GT(r.bytes.size(), 14u + 576u); }},
      {"option_57_never_above_the_mtu",
       [] {
         Parts p = Bloated();
         p.msg.options.SetU16(wire::kOptMaxMessageSize, 1500);
         return Build(p);
       },
       "reply_too_large",
       [](ReceiveMeta&, ResponderConfig& c, NetSnapshot& n) {
         c.boot_files[BootArch::kEfiX64] = std::string(254, 'f');
         n.interfaces[kEth0].mtu = 700;
       }},
      // Hole 10: option 82 from a snooping switch (giaddr 0) goes back.
      {"option_82_without_relay_echoed",
       [] {
         Parts p = Discover();
         p.msg.options.Set(wire::kOptRelayAgent, {1, 4, 'p', 'o', 'r', 't'});
         return Build(p);
       },
       "reply", nullptr,
       [](const Reply& r) {
         auto a = r.message.options.Get(wire::kOptRelayAgent);
         ASSERT_TRUE(a);
         EXPECT_EQ(a->size(), 6u);
       }},
      // Hole 10: several addresses; the one facing the client answers.
      {"several_addresses_option_50_picks_subnet",
       [] {
         Parts p = Discover();
         p.msg.options.SetIpv4(50, Ip("10.231.0.141"));
         return Build(p);
       },
       "reply",
       [](ReceiveMeta&, ResponderConfig&, NetSnapshot& n) {
         auto& a = n.interfaces[kEth0].ipv4;
         a.insert(a.begin(), {Ip("172.16.0.1"), 24});
       },
       [](const Reply& r) {
         EXPECT_EQ(r.src_ip, Ip("10.231.0.1"));
         EXPECT_EQ(r.message.options.GetIpv4(wire::kOptServerId),
                   Ip("10.231.0.1"));
       }},
      {"several_addresses_no_hint_primary", [] { return Build(Discover()); },
       "reply",
       [](ReceiveMeta&, ResponderConfig&, NetSnapshot& n) {
         auto& a = n.interfaces[kEth0].ipv4;
         a.insert(a.begin(), {Ip("172.16.0.1"), 24});
       },
       [](const Reply& r) { EXPECT_EQ(r.src_ip, Ip("172.16.0.1")); }},
      {"several_addresses_binl_uses_destination", [] { return Build(Binl()); },
       "reply",
       [](ReceiveMeta&, ResponderConfig&, NetSnapshot& n) {
         auto& a = n.interfaces[kEth0].ipv4;
         a.insert(a.begin(), {Ip("172.16.0.1"), 24});
       },
       [](const Reply& r) { EXPECT_EQ(r.src_ip, Ip("10.231.0.1")); }},
  };
}

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class DecideTable : public testing::TestWithParam<Row> {};

TEST_P(DecideTable, Decides) {
  const Row& row = GetParam();
  ReceiveMeta meta;
  meta.ifindex = kEth0;
  ResponderConfig config = Config();
  NetSnapshot net = Net();
  if (row.setup) row.setup(meta, config, net);
  Decision d = Decide(row.frame(), meta, net, config);
  if (row.want == "reply") {
    const Reply* r = std::get_if<Reply>(&d);
    ASSERT_NE(r, nullptr) << DescribeDecision(d);
    EXPECT_FALSE(r->bytes.empty());
    if (row.check) row.check(*r);
  } else {
    const Ignore* ig = std::get_if<Ignore>(&d);
    ASSERT_NE(ig, nullptr) << DescribeDecision(d);
    EXPECT_EQ(IgnoreReasonName(ig->reason), row.want);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, DecideTable, testing::ValuesIn(Rows()),
                         [](const testing::TestParamInfo<Row>& p) {
                           return p.param.name;
                         });

}  // namespace
}  // namespace proxydhcp
