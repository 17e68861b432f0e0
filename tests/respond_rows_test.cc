// The respond table, second half: port 4011, requests that are ignored,
// relays, the TFTP server flag and option edge cases.
#include "tests/respond_table.h"

namespace proxydhcp {
namespace respond_table {

void AddBinlAndOtherRows(const AddRow& add) {
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
}

}  // namespace respond_table
}  // namespace proxydhcp
