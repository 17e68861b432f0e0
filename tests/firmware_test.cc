// More firmware, answered right: every IANA architecture by name or number
// (--boot_file=ARCH=FILE, --http_boot_url=ARCH=URL, the MAC rules file) and
// Raspberry Pi boot ROMs (README "Every architecture, and Raspberry Pis").
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxydhcp/decide.h"
#include "proxydhcp/respond.h"
#include "proxydhcp/uefi_history.h"
#include "wire/udp_frame.h"

namespace proxydhcp {
namespace {

constexpr wire::Ipv4 kServer = 0x0a4d0101;  // 10.77.1.1

wire::DhcpMessage Discover(uint16_t arch, const std::string& vc,
                           wire::MacAddr mac = {0x52, 0x54, 0x00, 1, 2, 3}) {
  wire::DhcpMessage m;
  m.op = wire::kBootRequest;
  m.xid = 0x1234abcd;
  std::copy(mac.begin(), mac.end(), m.chaddr.begin());
  m.options.SetU8(wire::kOptMessageType, wire::kDiscover);
  m.options.SetString(wire::kOptVendorClass, vc);
  m.options.SetU16(wire::kOptClientArch, arch);
  return m;
}

wire::DhcpMessage Pxe(uint16_t arch) {
  char vc[64];
  snprintf(vc, sizeof(vc), "PXEClient:Arch:%05d:UNDI:003016", arch);
  return Discover(arch, vc);
}

wire::DhcpMessage Http(uint16_t arch) {
  char vc[64];
  snprintf(vc, sizeof(vc), "HTTPClient:Arch:%05d:UNDI:003016", arch);
  return Discover(arch, vc);
}

RequestContext Port67() {
  return {kDhcpServerPort, 0, kDhcpClientPort, kServer};
}

ResponderConfig Base() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  return c;
}

std::string FileOf(const Decision& d) {
  if (auto* ig = std::get_if<Ignore>(&d)) {
    return std::string("ignore:") + IgnoreReasonName(ig->reason);
  }
  return std::get<Reply>(d).boot_file;
}

TEST(ArchRegistry, NamesAndNumbers) {
  EXPECT_EQ(ParseArchName("efi_arm64"), std::vector<uint16_t>{11});
  EXPECT_EQ(ParseArchName("EFI-ARM64"), std::vector<uint16_t>{11});
  EXPECT_EQ(ParseArchName("11"), std::vector<uint16_t>{11});
  EXPECT_EQ(ParseArchName("efi_x64"), (std::vector<uint16_t>{7, 9}));
  EXPECT_EQ(ParseArchName("9"), std::vector<uint16_t>{9});
  // The registry: 25 is RISC-V 32, 27 RISC-V 64, 29 RISC-V 128.
  EXPECT_EQ(ParseArchName("efi_riscv64"), std::vector<uint16_t>{27});
  EXPECT_EQ(ParseArchName("efi_riscv32"), std::vector<uint16_t>{25});
  EXPECT_EQ(ParseArchName("efi_loongarch64"), std::vector<uint16_t>{39});
  EXPECT_EQ(ParseArchName("http_loongarch64"), std::vector<uint16_t>{40});
  EXPECT_TRUE(ParseArchName("efi_sparc").empty());
  EXPECT_TRUE(ParseArchName("42").empty());
  EXPECT_TRUE(ParseArchName("").empty());
  EXPECT_TRUE(ParseArchName("11x").empty());
  for (size_t i = 0; i < ArchRegistry().size(); ++i) {
    EXPECT_EQ(ArchRegistry()[i].code, i);
    EXPECT_EQ(ParseArchName(ArchRegistry()[i].name).front(), i);
  }
  EXPECT_TRUE(IsHttpBootArch(19));
  EXPECT_FALSE(IsHttpBootArch(11));
  EXPECT_TRUE(IsUefiArch(27));
  EXPECT_FALSE(IsUefiArch(0));
  EXPECT_FALSE(IsUefiArch(22));  // U-Boot
}

TEST(EveryArch, PxeByCodeBeforeClassFlags) {
  ResponderConfig c = Base();
  // Unconfigured ARM32 and RISC-V: unsupported, as before.
  EXPECT_EQ(FileOf(Respond(Pxe(10), Port67(), c)), "ignore:unsupported_arch");
  EXPECT_EQ(FileOf(Respond(Pxe(27), Port67(), c)), "ignore:unsupported_arch");
  c.arch_boot_files[10] = "arm32.efi";
  c.arch_boot_files[27] = "riscv64.efi";
  c.arch_boot_files[39] = "loong64.efi";
  c.arch_boot_files[9] = "ebc-is-x64.efi";
  c.arch_boot_files[0] = "";  // --boot_file=bios=: not answered
  EXPECT_EQ(FileOf(Respond(Pxe(10), Port67(), c)), "arm32.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(27), Port67(), c)), "riscv64.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(39), Port67(), c)), "loong64.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(9), Port67(), c)), "ebc-is-x64.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(7), Port67(), c)), "snponly.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(0), Port67(), c)),
            "ignore:no_boot_file_for_arch");
  // A UEFI arch gets the binl offer (no 43); U-Boot (22) is not UEFI: 43.
  Reply riscv = std::get<Reply>(Respond(Pxe(27), Port67(), c));
  EXPECT_FALSE(riscv.message.options.Has(wire::kOptVendorSpecific));
  c.arch_boot_files[22] = "uboot.scr";
  Reply uboot = std::get<Reply>(Respond(Pxe(22), Port67(), c));
  EXPECT_TRUE(uboot.message.options.Has(wire::kOptVendorSpecific));
}

TEST(EveryArch, HttpBootPerArchCarriesHttpClientAndUrl) {
  ResponderConfig c = Base();
  c.http_boot_url = "http://10.0.0.5/x64.efi";  // the bare flag: x64 only
  EXPECT_EQ(FileOf(Respond(Http(16), Port67(), c)), "http://10.0.0.5/x64.efi");
  EXPECT_EQ(FileOf(Respond(Http(19), Port67(), c)), "ignore:no_http_boot_url");
  c.http_boot_urls[19] = "http://10.0.0.5/arm64.efi";
  c.http_boot_urls[15] = "http://10.0.0.5/ia32.efi";
  c.http_boot_urls[18] = "http://10.0.0.5/arm32.efi";
  c.http_boot_urls[40] = "http://10.0.0.5/loong64.efi";
  for (auto [arch, url] : std::vector<std::pair<uint16_t, std::string>>{
           {19, "http://10.0.0.5/arm64.efi"},
           {15, "http://10.0.0.5/ia32.efi"},
           {18, "http://10.0.0.5/arm32.efi"},
           {40, "http://10.0.0.5/loong64.efi"},
           {16, "http://10.0.0.5/x64.efi"}}) {
    Decision d = Respond(Http(arch), Port67(), c);
    ASSERT_TRUE(std::holds_alternative<Reply>(d)) << arch;
    const wire::DhcpMessage& m = std::get<Reply>(d).message;
    EXPECT_EQ(m.options.GetString(wire::kOptVendorClass), "HTTPClient") << arch;
    EXPECT_EQ(m.options.GetString(wire::kOptBootfileName), url + '\0') << arch;
  }
  EXPECT_EQ(FileOf(Respond(Http(28), Port67(), c)), "ignore:no_http_boot_url");
}

TEST(EveryArch, MacRulePerArchWins) {
  ResponderConfig c = Base();
  MacRule rule;
  rule.prefix = {0x52, 0x54, 0x00};
  rule.prefix_len = 3;
  rule.arch_boot_files[11] = "lab-arm64.efi";
  rule.http_boot_urls[19] = "http://10.0.0.9/lab-arm64.efi";
  rule.boot_file = "lab-generic.efi";
  c.mac_rules.push_back(rule);
  c.arch_boot_files[11] = "arm64.efi";
  EXPECT_EQ(FileOf(Respond(Pxe(11), Port67(), c)), "lab-arm64.efi");
  EXPECT_EQ(FileOf(Respond(Pxe(7), Port67(), c)), "lab-generic.efi");
  EXPECT_EQ(FileOf(Respond(Http(19), Port67(), c)),
            "http://10.0.0.9/lab-arm64.efi");
  // The generic rule file is not a licence to answer an arch nobody
  // configured: a RISC-V board is not sent an x86 file.
  EXPECT_EQ(FileOf(Respond(Pxe(27), Port67(), c)), "ignore:unsupported_arch");
}

// A Raspberry Pi 4 EEPROM bootloader's DISCOVER, as public captures decode
// it (rpi-eeprom issues, raspberrypi/documentation bootmodes/net.md):
// option 60 "PXEClient:Arch:00000:UNDI:002001", 93 = 0, 94 = 1.2.1, 97 a
// GUID starting "RPI4", 55 asking for 43, 66, 67; source MAC dc:a6:32.
wire::DhcpMessage PiDiscover(wire::MacAddr mac = {0xdc, 0xa6, 0x32, 0x12, 0x34,
                                                  0x56}) {
  wire::DhcpMessage m =
      Discover(wire::kArchBios, "PXEClient:Arch:00000:UNDI:002001", mac);
  m.flags = 0;
  m.options.Set(wire::kOptParameterList,
                {1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135});
  m.options.Set(94, {1, 2, 1});
  std::vector<uint8_t> guid = {0, 'R', 'P', 'I', '4'};
  guid.resize(wire::kClientGuidSize, 0x42);
  m.options.Set(wire::kOptClientGuid, guid);
  return m;
}

TEST(RaspberryPi, IgnoredByDefaultNeverAnX86File) {
  ResponderConfig c = Base();
  for (wire::MacAddr mac :
       std::vector<wire::MacAddr>{{0xb8, 0x27, 0xeb, 1, 2, 3},
                                  {0xdc, 0xa6, 0x32, 1, 2, 3},
                                  {0xe4, 0x5f, 0x01, 1, 2, 3},
                                  {0xd8, 0x3a, 0xdd, 1, 2, 3},
                                  {0x2c, 0xcf, 0x67, 1, 2, 3},
                                  {0x28, 0xcd, 0xc1, 1, 2, 3}}) {
    EXPECT_EQ(FileOf(Respond(PiDiscover(mac), Port67(), c)),
              "ignore:raspberry_pi");
  }
  // The same DISCOVER from a PC's MAC is a BIOS PXE client.
  EXPECT_EQ(FileOf(Respond(PiDiscover({0x52, 0x54, 0, 1, 2, 3}), Port67(), c)),
            "undionly.kpxe");
  // A Pi running UEFI firmware (pftf/RPi4) sends arch 11: ARM64 UEFI.
  c.boot_files[BootArch::kEfiArm64] = "snp-arm64.efi";
  wire::DhcpMessage uefi = PiDiscover();
  uefi.options.SetU16(wire::kOptClientArch, wire::kArchEfiArm64);
  uefi.options.SetString(wire::kOptVendorClass,
                         "PXEClient:Arch:00011:UNDI:003000");
  EXPECT_EQ(FileOf(Respond(uefi, Port67(), c)), "snp-arm64.efi");
}

TEST(RaspberryPi, AnsweredWithRaspberryPiBootMenu) {
  ResponderConfig c = Base();
  c.raspberry_pi = true;
  c.tftp_server = 0x0a4d0105;
  Decision d = Respond(PiDiscover(), Port67(), c);
  ASSERT_TRUE(std::holds_alternative<Reply>(d));
  const wire::DhcpMessage& m = std::get<Reply>(d).message;
  EXPECT_EQ(m.message_type(), wire::kOffer);
  EXPECT_EQ(m.siaddr, 0x0a4d0105u);  // the TFTP server
  EXPECT_EQ(m.yiaddr, 0u);
  EXPECT_EQ(m.file, "");
  EXPECT_FALSE(m.options.Has(wire::kOptBootfileName));
  EXPECT_EQ(m.options.GetString(wire::kOptVendorClass), "PXEClient");
  auto o43 = m.options.Get(wire::kOptVendorSpecific);
  ASSERT_TRUE(o43.has_value());
  auto subs = wire::ParseSubOptions(*o43);
  ASSERT_TRUE(subs.has_value());
  EXPECT_EQ(subs->at(6), std::vector<uint8_t>{8});
  std::vector<uint8_t> menu = {0, 0, 17};
  for (char ch : std::string("Raspberry Pi Boot")) menu.push_back(ch);
  EXPECT_EQ(subs->at(9), menu);
  EXPECT_EQ(subs->at(10), (std::vector<uint8_t>{0, 'P', 'X', 'E'}));
  EXPECT_EQ(*m.options.Get(wire::kOptClientGuid),
            *PiDiscover().options.Get(wire::kOptClientGuid));
}

// Through Decide, from the frame a Pi sends: the same answer.
TEST(RaspberryPi, DecideFromFrame) {
  wire::UdpDatagram udp;
  udp.src_mac = {0xdc, 0xa6, 0x32, 0x12, 0x34, 0x56};
  udp.dst_mac = wire::kMacBroadcast;
  udp.src_ip = 0;
  udp.dst_ip = wire::kIpv4Broadcast;
  udp.src_port = kDhcpClientPort;
  udp.dst_port = kDhcpServerPort;
  udp.payload = wire::SerializeDhcp(PiDiscover());
  std::vector<uint8_t> frame = wire::BuildEthernetUdp(udp);
  NetSnapshot net;
  InterfaceInfo eth;
  eth.index = 2;
  eth.name = "eth0";
  eth.mtu = 1500;
  eth.up = true;
  eth.ipv4.push_back({kServer, 24, false});
  net.interfaces[2] = eth;
  ReceiveMeta meta;
  meta.ifindex = 2;
  ResponderConfig c = Base();
  Decision ignored = Decide(frame, meta, net, c);
  ASSERT_TRUE(std::holds_alternative<Ignore>(ignored));
  EXPECT_EQ(std::get<Ignore>(ignored).reason, IgnoreReason::kRaspberryPi);
  c.raspberry_pi = true;
  Decision d = Decide(frame, meta, net, c);
  ASSERT_TRUE(std::holds_alternative<Reply>(d)) << FileOf(d);
  EXPECT_EQ(std::get<Reply>(d).message.siaddr, kServer);
  EXPECT_FALSE(std::get<Reply>(d).bytes.empty());
}

// The adaptive UEFI strategy (README "The adaptive UEFI strategy").
struct Adaptive {
  ResponderConfig config = Base();
  UefiHistory history{3};
  int64_t now = 1000000;
  // DISCOVER from `mac` with `xid` at `now`; the strategy offered.
  std::optional<UefiStrategy> Discover(wire::MacAddr mac, uint32_t xid,
                                       bool* switched = nullptr) {
    wire::DhcpMessage m = Pxe(7);
    std::copy(mac.begin(), mac.end(), m.chaddr.begin());
    m.xid = xid;
    Decision d = Respond(m, Port67(), config,
                         {&history, now, config.uefi_adaptive_window_ms});
    if (!std::holds_alternative<Reply>(d)) return std::nullopt;
    const Reply& r = std::get<Reply>(d);
    // What the daemon does after sending it.
    if (r.uefi_strategy) history.Offered(mac, xid, *r.uefi_strategy, now);
    if (switched) *switched = r.uefi_switched;
    // The offer matches the strategy: 43 only with bypass.
    EXPECT_EQ(r.message.options.Has(wire::kOptVendorSpecific),
              r.uefi_strategy == UefiStrategy::kBypass);
    return r.uefi_strategy;
  }
};

const wire::MacAddr kA = {0x52, 0x54, 0, 0, 0, 0xa};
const wire::MacAddr kB = {0x52, 0x54, 0, 0, 0, 0xb};

TEST(AdaptiveUefi, NewXidSoonWithoutProgressSwitchesOnceEachTime) {
  Adaptive a;
  bool switched = true;
  EXPECT_EQ(a.Discover(kA, 1, &switched), UefiStrategy::kBinl);
  EXPECT_FALSE(switched);
  a.now += 1000;  // a retransmission: same xid, same offer
  EXPECT_EQ(a.Discover(kA, 1, &switched), UefiStrategy::kBinl);
  EXPECT_FALSE(switched);
  a.now += 8000;  // turned it down, started over: the other one
  EXPECT_EQ(a.Discover(kA, 2, &switched), UefiStrategy::kBypass);
  EXPECT_TRUE(switched);
  a.now += 500;  // its retransmission is not a second switch
  EXPECT_EQ(a.Discover(kA, 2, &switched), UefiStrategy::kBypass);
  EXPECT_FALSE(switched);
  a.now += 20000;  // turned that down too: back, and so on
  EXPECT_EQ(a.Discover(kA, 3, &switched), UefiStrategy::kBinl);
  EXPECT_TRUE(switched);
}

TEST(AdaptiveUefi, ReachingBinlOrTftpKeepsWhatWorked) {
  Adaptive a;
  a.config.uefi_strategy = UefiStrategy::kBypass;
  EXPECT_EQ(a.Discover(kA, 1), UefiStrategy::kBypass);
  a.now += 5000;
  EXPECT_EQ(a.Discover(kA, 2), UefiStrategy::kBinl);  // switched
  a.history.Reached(kA);                              // it asked on 4011
  a.now += 5000;
  EXPECT_EQ(a.Discover(kA, 3), UefiStrategy::kBinl);  // kept, even later
  a.now += 3600 * 1000;
  EXPECT_EQ(a.Discover(kA, 4), UefiStrategy::kBinl);
  // Reached TFTP: known by the address from its REQUEST to the DHCP server.
  EXPECT_EQ(a.Discover(kB, 1), UefiStrategy::kBypass);
  a.history.LearnAddress(kB, 0x0a000064);
  a.history.ReachedFrom(0x0a000064);
  a.now += 2000;
  EXPECT_EQ(a.Discover(kB, 2), UefiStrategy::kBypass);
}

TEST(AdaptiveUefi, OutsideTheWindowOrOffIsTheConfiguredStrategy) {
  Adaptive a;
  EXPECT_EQ(a.Discover(kA, 1), UefiStrategy::kBinl);
  a.now += a.config.uefi_adaptive_window_ms + 1;
  EXPECT_EQ(a.Discover(kA, 2), UefiStrategy::kBinl);
  a.config.uefi_adaptive_window_ms = 0;
  a.now += 1000;
  EXPECT_EQ(a.Discover(kA, 3), UefiStrategy::kBinl);
  // BIOS, iPXE and HTTP Boot have no strategy and are never remembered.
  wire::DhcpMessage bios = Pxe(0);
  Decision d = Respond(bios, Port67(), a.config, {&a.history, a.now, 30000});
  EXPECT_FALSE(std::get<Reply>(d).uefi_strategy.has_value());
}

TEST(AdaptiveUefi, BoundedLeastRecentlyOfferedForgotten) {
  Adaptive a;  // capacity 3
  for (uint8_t i = 0; i < 10; ++i) {
    a.Discover({0x52, 0x54, 0, 0, 1, i}, 1);
    a.now += 10;
    EXPECT_LE(a.history.size(), 3u);
  }
  EXPECT_EQ(a.history.Find({0x52, 0x54, 0, 0, 1, 0}), nullptr);
  EXPECT_NE(a.history.Find({0x52, 0x54, 0, 0, 1, 9}), nullptr);
  // Addresses of forgotten clients are forgotten with them.
  a.history.LearnAddress({0x52, 0x54, 0, 0, 1, 9}, 0x0a000001);
  for (uint8_t i = 10; i < 14; ++i) a.Discover({0x52, 0x54, 0, 0, 1, i}, 1);
  a.history.ReachedFrom(0x0a000001);  // no entry left: nothing happens
  EXPECT_EQ(a.history.Find({0x52, 0x54, 0, 0, 1, 9}), nullptr);
}

// Through Decide, a REQUEST to the DHCP server names the client's address.
TEST(AdaptiveUefi, IgnoredRequestCarriesTheRequestedAddress) {
  wire::DhcpMessage m = Pxe(7);
  m.options.SetU8(wire::kOptMessageType, wire::kRequest);
  m.options.SetIpv4(50, 0x0a4d0164);
  wire::UdpDatagram udp;
  udp.src_mac = {0x52, 0x54, 0x00, 1, 2, 3};
  udp.dst_mac = wire::kMacBroadcast;
  udp.dst_ip = wire::kIpv4Broadcast;
  udp.src_port = kDhcpClientPort;
  udp.dst_port = kDhcpServerPort;
  udp.payload = wire::SerializeDhcp(m);
  NetSnapshot net;
  ReceiveMeta meta;
  meta.ifindex = 2;
  Decision d = Decide(wire::BuildEthernetUdp(udp), meta, net, Base());
  ASSERT_TRUE(std::holds_alternative<Ignore>(d));
  EXPECT_EQ(std::get<Ignore>(d).reason, IgnoreReason::kRequestOnPort67);
  EXPECT_EQ(std::get<Ignore>(d).requested, 0x0a4d0164u);
}

}  // namespace
}  // namespace proxydhcp
