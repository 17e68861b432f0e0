// Table-driven tests of the decision core: one row per client situation.
#include "proxydhcp/respond.h"

#include <functional>

#include "gtest/gtest.h"
#include "proxydhcp/describe.h"
#include "tests/respond_table.h"

namespace proxydhcp {
namespace respond_table {

void AddOfferRows(const AddRow& add) {
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
}

namespace {

std::vector<Row> Rows() {
  std::vector<Row> rows;
  AddRow add = [&](std::string name, wire::DhcpMessage req, RequestContext ctx,
                   std::function<void(ResponderConfig&)> cfg, Want want) {
    rows.push_back({std::move(name), std::move(req), ctx, std::move(cfg),
                    std::move(want)});
  };
  AddOfferRows(add);
  AddBinlAndOtherRows(add);
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
}  // namespace respond_table
}  // namespace proxydhcp
