// Table-driven tests of the decision core: one row per client situation.
#include "proxydhcp/respond.h"

#include <functional>

#include "gtest/gtest.h"
#include "proxydhcp/describe.h"

namespace proxydhcp {
namespace {

constexpr wire::Ipv4 kServer = 0x0a4d0101;  // 10.77.1.1
constexpr wire::Ipv4 kClient = 0x0a4d0164;  // 10.77.1.100
constexpr wire::Ipv4 kRelay = 0x0a4e0001;   // 10.78.0.1
constexpr wire::Ipv4 kNextServer = 0x0a4d0105;

wire::DhcpMessage Discover(uint16_t arch, const std::string& vc) {
  wire::DhcpMessage m;
  m.op = wire::kBootRequest;
  m.xid = 0xdeadbeef;
  m.flags = wire::kBroadcastFlag;
  m.chaddr = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
  m.options.SetU8(wire::kOptMessageType, wire::kDiscover);
  m.options.SetString(wire::kOptVendorClass, vc);
  m.options.SetU16(wire::kOptClientArch, arch);
  std::vector<uint8_t> guid(17, 0x11);
  guid[0] = 0;
  m.options.Set(wire::kOptClientGuid, guid);
  return m;
}

wire::DhcpMessage Pxe(uint16_t arch) {
  char vc[64];
  snprintf(vc, sizeof(vc), "PXEClient:Arch:%05d:UNDI:003000", arch);
  return Discover(arch, vc);
}

wire::DhcpMessage Ipxe(uint16_t arch, bool http = true) {
  wire::DhcpMessage m = Pxe(arch);
  m.options.SetString(wire::kOptUserClass, "iPXE");
  std::vector<uint8_t> e = {0x11, 1, 1, 0x15, 1, 1, 0x24, 1, 1};
  if (http) e.insert(e.end(), {0x13, 1, 1});
  m.options.Set(wire::kOptIpxeEncap, e);
  return m;
}

wire::DhcpMessage Binl(wire::DhcpMessage m, uint8_t type = wire::kRequest) {
  m.options.SetU8(wire::kOptMessageType, type);
  m.ciaddr = kClient;
  m.flags = 0;
  return m;
}

ResponderConfig BaseConfig() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  c.menu_url = "http://10.77.1.5/menu.ipxe?mac=${net0/mac}";
  return c;
}

RequestContext Port67() {
  return {kDhcpServerPort, 0, kDhcpClientPort, kServer};
}
RequestContext Port4011(uint16_t src_port = kPxeBinlPort) {
  return {kPxeBinlPort, kClient, src_port, kServer};
}

struct Want {
  std::optional<IgnoreReason> ignore;
  uint8_t type = wire::kOffer;
  std::string file;
  std::optional<std::vector<uint8_t>> opt43;  // nullopt: must be absent
  std::string vendor_class = "PXEClient";
  wire::Ipv4 dst_ip = wire::kIpv4Broadcast;
  uint16_t dst_port = kDhcpClientPort;
  uint16_t src_port = kDhcpServerPort;
  bool broadcast = true;
  wire::Ipv4 yiaddr = 0;
  wire::Ipv4 siaddr = kServer;
  bool priority_175 = false;
  bool guid_echoed = true;
  wire::Ipv4 giaddr = 0;
  bool relay_agent_echoed = false;
};

struct Row {
  std::string name;
  wire::DhcpMessage request;
  RequestContext ctx;
  std::function<void(ResponderConfig&)> configure;
  Want want;
};

Want Ignored(IgnoreReason r) {
  Want w;
  w.ignore = r;
  return w;
}
Want Offer(const std::string& file, std::optional<std::vector<uint8_t>> o43) {
  Want w;
  w.file = file;
  w.opt43 = o43;
  return w;
}
Want IpxeOffer(const std::string& file) {
  Want w = Offer(file, std::nullopt);
  w.priority_175 = true;
  return w;
}
Want Ack(const std::string& file, uint16_t dst_port = kPxeBinlPort) {
  Want w;
  w.type = wire::kAck;
  w.file = file;
  w.dst_ip = kClient;
  w.dst_port = dst_port;
  w.src_port = kPxeBinlPort;
  w.broadcast = false;
  w.yiaddr = kClient;
  return w;
}

const std::vector<uint8_t> k43Bypass = {6, 1, 8, 255};
const std::string kMenu = "http://10.77.1.5/menu.ipxe?mac=${net0/mac}";
auto NoChange = [](ResponderConfig&) {};

std::vector<Row> Rows() {
  std::vector<Row> rows;
  auto add = [&](std::string name, wire::DhcpMessage req, RequestContext ctx,
                 std::function<void(ResponderConfig&)> cfg, Want want) {
    rows.push_back({std::move(name), std::move(req), ctx, std::move(cfg),
                    std::move(want)});
  };
  add("bios_pxe", Pxe(0), Port67(), NoChange,
      Offer("undionly.kpxe", k43Bypass));
  add("uefi_x64_arch7_no_43", Pxe(7), Port67(), NoChange,
      Offer("snponly.efi", std::nullopt));
  add("uefi_x64_arch9_same_as_7", Pxe(9), Port67(), NoChange,
      Offer("snponly.efi", std::nullopt));
  add("uefi_ia32_unconfigured", Pxe(6), Port67(), NoChange,
      Ignored(IgnoreReason::kNoBootFileForArch));
  add(
      "uefi_ia32_configured", Pxe(6), Port67(),
      [](ResponderConfig& c) { c.boot_files[BootArch::kEfiIa32] = "i386.efi"; },
      Offer("i386.efi", std::nullopt));
  add("uefi_arm64_unconfigured", Pxe(11), Port67(), NoChange,
      Ignored(IgnoreReason::kNoBootFileForArch));
  add("uefi_arm32_unsupported", Pxe(10), Port67(), NoChange,
      Ignored(IgnoreReason::kUnsupportedArch));
  add(
      "uefi_bypass_strategy", Pxe(7), Port67(),
      [](ResponderConfig& c) { c.uefi_strategy = UefiStrategy::kBypass; },
      Offer("snponly.efi", k43Bypass));
  add(
      "mac_rule_bypass", Pxe(7), Port67(),
      [](ResponderConfig& c) {
        c.mac_rules.push_back(
            {{0x52, 0x54, 0x00}, 3, {}, UefiStrategy::kBypass});
      },
      Offer("snponly.efi", k43Bypass));
  add(
      "mac_rule_boot_file", Pxe(0), Port67(),
      [](ResponderConfig& c) {
        c.mac_rules.push_back({{0x52, 0x54}, 2, "ipxe.pxe", {}});
      },
      Offer("ipxe.pxe", k43Bypass));
  add(
      "mac_rule_not_matching", Pxe(7), Port67(),
      [](ResponderConfig& c) {
        c.mac_rules.push_back(
            {{0x00, 0x11}, 2, "other.efi", UefiStrategy::kBypass});
      },
      Offer("snponly.efi", std::nullopt));
  add("http_boot_without_url",
      Discover(16, "HTTPClient:Arch:00016:UNDI:003000"), Port67(), NoChange,
      Ignored(IgnoreReason::kNoHttpBootUrl));
  {
    Want w = Offer("http://10.77.1.5/ipxe.efi", std::nullopt);
    w.vendor_class = "HTTPClient";
    add(
        "http_boot_with_url", Discover(16, "HTTPClient:Arch:00016:UNDI:003000"),
        Port67(),
        [](ResponderConfig& c) {
          c.http_boot_url = "http://10.77.1.5/ipxe.efi";
        },
        w);
  }
  add("ipxe_175_gets_menu", Ipxe(7), Port67(), NoChange, IpxeOffer(kMenu));
  add("ipxe_bios_gets_menu_not_43", Ipxe(0), Port67(), NoChange,
      IpxeOffer(kMenu));
  {
    wire::DhcpMessage m = Pxe(0);
    m.options.SetString(wire::kOptUserClass, "iPXE");
    add("ipxe_raw_77_only", m, Port67(), NoChange, IpxeOffer(kMenu));
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.options.Set(wire::kOptUserClass, {4, 'i', 'P', 'X', 'E'});
    add("ipxe_rfc3004_77", m, Port67(), NoChange, IpxeOffer(kMenu));
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.options.SetString(wire::kOptUserClass, "MYBOOT");
    add(
        "ipxe_configured_user_class", m, Port67(),
        [](ResponderConfig& c) { c.classify.ipxe_user_classes = {"MYBOOT"}; },
        IpxeOffer(kMenu));
    add("unknown_user_class_is_pxe", m, Port67(), NoChange,
        Offer("snponly.efi", std::nullopt));
  }
  add("ipxe_without_http_gets_full_ipxe", Ipxe(0, false), Port67(), NoChange,
      IpxeOffer("undionly.kpxe"));
  add(
      "ipxe_embedded_menu_over_tftp", Ipxe(7), Port67(),
      [](ResponderConfig& c) { c.menu_url.clear(); },
      IpxeOffer("tftp://10.77.1.1/pxeproxy-menu.ipxe"));
  add(
      "ipxe_without_http_tftp_menu_ok", Ipxe(7, false), Port67(),
      [](ResponderConfig& c) { c.menu_url = "tftp://10.77.1.1/menu.ipxe"; },
      IpxeOffer("tftp://10.77.1.1/menu.ipxe"));
  add(
      "ipxe_priority_disabled", Ipxe(7), Port67(),
      [](ResponderConfig& c) { c.ipxe_priority = 0; },
      Offer(kMenu, std::nullopt));
  add("binl_request_uefi", Binl(Pxe(7)), Port4011(), NoChange,
      Ack("snponly.efi"));
  add("binl_request_bios_every_arch", Binl(Pxe(0)), Port4011(), NoChange,
      Ack("undionly.kpxe"));
  add("binl_inform", Binl(Pxe(7), wire::kInform), Port4011(68), NoChange,
      Ack("snponly.efi", 68));
  {
    wire::DhcpMessage m = Binl(Pxe(7));
    m.options.Set(wire::kOptVendorSpecific,
                  {71, 4, 0x80, 0x00, 0x00, 0x00, 255});
    Want w = Ack("snponly.efi");
    w.opt43 = std::vector<uint8_t>{71, 4, 0x80, 0x00, 0x00, 0x00, 255};
    add("binl_echoes_boot_item_43_71", m, Port4011(), NoChange, w);
  }
  add("binl_discover_ignored", Binl(Pxe(7), wire::kDiscover), Port4011(),
      NoChange, Ignored(IgnoreReason::kUnhandledMessageType));
  {
    wire::DhcpMessage m = Binl(Pxe(7));
    m.ciaddr = 0;
    Want w = Ack("snponly.efi");
    w.dst_ip = wire::kIpv4Broadcast;
    w.broadcast = true;
    w.yiaddr = 0;
    RequestContext ctx = Port4011();
    ctx.src_ip = 0;
    add("binl_from_unconfigured_client", m, ctx, NoChange, w);
  }
  {
    Want w = Ack(kMenu);
    w.priority_175 = true;
    add("binl_ipxe_gets_menu", Binl(Ipxe(7)), Port4011(), NoChange, w);
  }
  add("request_on_67", Binl(Pxe(7)), Port67(), NoChange,
      Ignored(IgnoreReason::kRequestOnPort67));
  add("release_on_67", Binl(Pxe(7), wire::kRelease), Port67(), NoChange,
      Ignored(IgnoreReason::kUnhandledMessageType));
  add("decline_on_67", Binl(Pxe(7), wire::kDecline), Port67(), NoChange,
      Ignored(IgnoreReason::kUnhandledMessageType));
  add("inform_on_67", Binl(Pxe(7), wire::kInform), Port67(), NoChange,
      Ignored(IgnoreReason::kUnhandledMessageType));
  {
    wire::DhcpMessage m = Pxe(7);
    m.op = wire::kBootReply;
    add("bootreply_ignored", m, Port67(), NoChange,
        Ignored(IgnoreReason::kNotBootRequest));
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.options.Erase(wire::kOptMessageType);
    add("plain_bootp", m, Port67(), NoChange,
        Ignored(IgnoreReason::kNoMessageType));
    m.options.Set(wire::kOptMessageType, {1, 1});
    add("message_type_wrong_length", m, Port67(), NoChange,
        Ignored(IgnoreReason::kNoMessageType));
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.options.Erase(wire::kOptVendorClass);
    add("no_vendor_class", m, Port67(), NoChange,
        Ignored(IgnoreReason::kNotPxeClient));
  }
  add("windows_client", Discover(0, "MSFT 5.0"), Port67(), NoChange,
      Ignored(IgnoreReason::kNotPxeClient));
  add("prefix_is_case_sensitive", Discover(0, "pxeclient:Arch:00000"), Port67(),
      NoChange, Ignored(IgnoreReason::kNotPxeClient));
  add(
      "custom_prefix", Discover(0, "HW-Client:Arch:00000"), Port67(),
      [](ResponderConfig& c) {
        c.classify.vendor_class_prefixes = {"PXEClient", "HW-Client"};
      },
      Offer("undionly.kpxe", k43Bypass));
  {
    wire::DhcpMessage m = Pxe(7);
    m.giaddr = kRelay;
    m.hops = 1;
    Want w = Offer("snponly.efi", std::nullopt);
    w.dst_ip = kRelay;
    w.dst_port = kDhcpServerPort;
    w.broadcast = false;
    w.giaddr = kRelay;
    add("relayed_unicast_to_giaddr", m, Port67(), NoChange, w);
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.options.Erase(wire::kOptClientGuid);
    Want w = Offer("snponly.efi", std::nullopt);
    w.guid_echoed = false;
    add("no_guid_no_97", m, Port67(), NoChange, w);
  }
  {
    RequestContext ctx = Port67();
    ctx.server_ip = 0;
    add("interface_without_ipv4", Pxe(7), ctx, NoChange,
        Ignored(IgnoreReason::kNoServerAddress));
  }
  {
    auto next = [](ResponderConfig& c) { c.tftp_server = kNextServer; };
    Want bios = Offer("undionly.kpxe", k43Bypass);
    bios.siaddr = kNextServer;
    add("tftp_server_flag_sets_siaddr", Pxe(0), Port67(), next, bios);
    // EDK2 sends its 4011 REQUEST to siaddr: it must be us in a binl offer,
    // and the ACK then names the TFTP server.
    add("tftp_server_uefi_binl_offer_keeps_us", Pxe(7), Port67(), next,
        Offer("snponly.efi", std::nullopt));
    Want ack = Ack("snponly.efi");
    ack.siaddr = kNextServer;
    add("tftp_server_in_the_4011_ack", Binl(Pxe(7)), Port4011(), next, ack);
    Want bypass = Offer("snponly.efi", k43Bypass);
    bypass.siaddr = kNextServer;
    add(
        "tftp_server_uefi_bypass", Pxe(7), Port67(),
        [](ResponderConfig& c) {
          c.tftp_server = kNextServer;
          c.uefi_strategy = UefiStrategy::kBypass;
        },
        bypass);
    Want menu = IpxeOffer("tftp://10.77.1.1/pxeproxy-menu.ipxe");
    menu.siaddr = kNextServer;
    add(
        "embedded_menu_is_ours_whatever_siaddr", Ipxe(7), Port67(),
        [](ResponderConfig& c) {
          c.tftp_server = kNextServer;
          c.menu_url.clear();
        },
        menu);
  }
  add(
      "http_boot_arm64_not_given_x64_url",
      Discover(19, "HTTPClient:Arch:00019:UNDI:003000"), Port67(),
      [](ResponderConfig& c) { c.http_boot_url = "http://10.77.1.5/ipxe.efi"; },
      Ignored(IgnoreReason::kNoHttpBootUrl));
  {
    wire::DhcpMessage m = Binl(Pxe(7));
    m.options.Set(wire::kOptVendorSpecific, {71, 2, 0x80, 0x00, 255});
    add("binl_short_boot_item_not_echoed", m, Port4011(), NoChange,
        Ack("snponly.efi"));
  }
  {
    wire::DhcpMessage m = Pxe(7);
    m.giaddr = kRelay;
    m.options.Set(wire::kOptRelayAgent, {1, 3, 'p', 'o', '1'});
    Want w = Offer("snponly.efi", std::nullopt);
    w.dst_ip = kRelay;
    w.dst_port = kDhcpServerPort;
    w.broadcast = false;
    w.giaddr = kRelay;
    w.relay_agent_echoed = true;
    add("relayed_option_82_echoed", m, Port67(), NoChange, w);
  }
  {
    wire::DhcpMessage m = Pxe(0);
    m.options.Erase(wire::kOptClientArch);
    m.options.SetString(wire::kOptVendorClass,
                        "PXEClient:Arch:00007:UNDI:003000");
    add("arch_from_vendor_class", m, Port67(), NoChange,
        Offer("snponly.efi", std::nullopt));
  }
  {
    wire::DhcpMessage m = Pxe(0);
    m.options.Set(wire::kOptClientArch, {0, 7, 0, 0});
    add("arch_list_first_entry", m, Port67(), NoChange,
        Offer("snponly.efi", std::nullopt));
  }
  {
    wire::DhcpMessage m = Pxe(0);
    m.options.Set(wire::kOptClientArch, {0, 7, 0});
    m.options.SetString(wire::kOptVendorClass, "PXEClient");
    add("arch_malformed_defaults_bios", m, Port67(), NoChange,
        Offer("undionly.kpxe", k43Bypass));
  }
  return rows;
}

class RespondTable : public testing::TestWithParam<Row> {};

TEST_P(RespondTable, Decides) {
  const Row& row = GetParam();
  ResponderConfig config = BaseConfig();
  row.configure(config);
  Decision d = Respond(row.request, row.ctx, config);
  SCOPED_TRACE(DescribeDecision(d));
  const Want& w = row.want;
  if (w.ignore) {
    ASSERT_TRUE(std::holds_alternative<Ignore>(d));
    EXPECT_EQ(IgnoreReasonName(std::get<Ignore>(d).reason),
              std::string(IgnoreReasonName(*w.ignore)));
    return;
  }
  ASSERT_TRUE(std::holds_alternative<Reply>(d));
  const Reply& r = std::get<Reply>(d);
  const wire::DhcpMessage& m = r.message;
  EXPECT_EQ(m.op, wire::kBootReply);
  EXPECT_EQ(m.xid, row.request.xid);
  EXPECT_EQ(m.chaddr, row.request.chaddr);
  EXPECT_EQ(m.flags, row.request.flags);
  EXPECT_EQ(m.giaddr, w.giaddr);
  EXPECT_EQ(m.hops, 0);
  EXPECT_EQ(m.message_type(), w.type);
  EXPECT_EQ(m.options.GetIpv4(wire::kOptServerId), kServer);
  EXPECT_EQ(m.options.GetString(wire::kOptVendorClass), w.vendor_class);
  // Option 67 is NUL-terminated (EDK2 PxeBcParseDhcp4Packet, old ROMs).
  EXPECT_EQ(m.options.GetString(wire::kOptBootfileName), w.file + '\0');
  EXPECT_EQ(m.file, w.file.size() <= 127 ? w.file : "");
  EXPECT_EQ(r.boot_file, w.file);
  EXPECT_EQ(m.yiaddr, w.yiaddr);
  EXPECT_EQ(m.siaddr, w.siaddr);
  EXPECT_EQ(r.src_ip, kServer);
  EXPECT_EQ(r.dst_ip, w.dst_ip);
  EXPECT_EQ(r.dst_port, w.dst_port);
  EXPECT_EQ(r.src_port, w.src_port);
  EXPECT_EQ(r.broadcast, w.broadcast);
  auto o43 = m.options.Get(wire::kOptVendorSpecific);
  if (w.opt43) {
    ASSERT_TRUE(o43.has_value());
    EXPECT_EQ(std::vector<uint8_t>(o43->begin(), o43->end()), *w.opt43);
  } else {
    EXPECT_FALSE(o43.has_value());
  }
  EXPECT_EQ(m.options.Has(wire::kOptIpxeEncap), w.priority_175);
  EXPECT_EQ(m.options.Has(wire::kOptRelayAgent), w.relay_agent_echoed);
  EXPECT_EQ(m.options.Has(wire::kOptClientGuid), w.guid_echoed);
  if (w.guid_echoed) {
    EXPECT_EQ(*m.options.Get(wire::kOptClientGuid),
              *row.request.options.Get(wire::kOptClientGuid));
  }
  // Never IP configuration: the corporate server owns it.
  for (uint8_t code : {wire::kOptSubnetMask, wire::kOptRouter, wire::kOptDns,
                       wire::kOptLeaseTime}) {
    EXPECT_FALSE(m.options.Has(code)) << "option " << int(code);
  }
  EXPECT_GE(wire::SerializeDhcp(m).size(), wire::kMinMessageSize);
}

INSTANTIATE_TEST_SUITE_P(Rows, RespondTable, testing::ValuesIn(Rows()),
                         [](const testing::TestParamInfo<Row>& p) {
                           return p.param.name;
                         });

TEST(Respond, LongMenuUrlGoesToOption67Only) {
  ResponderConfig c = BaseConfig();
  c.menu_url = "http://10.77.1.5/" + std::string(200, 'm');
  Decision d = Respond(Ipxe(7), Port67(), c);
  ASSERT_TRUE(std::holds_alternative<Reply>(d));
  EXPECT_EQ(std::get<Reply>(d).message.file, "");
  EXPECT_EQ(
      std::get<Reply>(d).message.options.GetString(wire::kOptBootfileName),
      c.menu_url + '\0');
}

TEST(Respond, EveryIgnoreReasonHasADistinctName) {
  std::set<std::string> names;
  for (IgnoreReason r : AllIgnoreReasons()) names.insert(IgnoreReasonName(r));
  EXPECT_EQ(names.size(), AllIgnoreReasons().size());
  EXPECT_FALSE(names.count("unknown"));
}

}  // namespace
}  // namespace proxydhcp
