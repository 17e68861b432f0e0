// The respond table's vocabulary: requests as firmware sends them, the
// configuration the rows start from, and what a row expects.
#ifndef PXEPROXY_TESTS_RESPOND_TABLE_H_
#define PXEPROXY_TESTS_RESPOND_TABLE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proxydhcp/respond.h"

namespace proxydhcp {
namespace respond_table {

inline constexpr wire::Ipv4 kServer = 0x0a4d0101;  // 10.77.1.1
inline constexpr wire::Ipv4 kClient = 0x0a4d0164;  // 10.77.1.100
inline constexpr wire::Ipv4 kRelay = 0x0a4e0001;   // 10.78.0.1
inline constexpr wire::Ipv4 kNextServer = 0x0a4d0105;

inline wire::DhcpMessage Discover(uint16_t arch, const std::string& vc) {
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

inline wire::DhcpMessage Pxe(uint16_t arch) {
  char vc[64];
  snprintf(vc, sizeof(vc), "PXEClient:Arch:%05d:UNDI:003000", arch);
  return Discover(arch, vc);
}

inline wire::DhcpMessage Ipxe(uint16_t arch, bool http = true) {
  wire::DhcpMessage m = Pxe(arch);
  m.options.SetString(wire::kOptUserClass, "iPXE");
  std::vector<uint8_t> e = {0x11, 1, 1, 0x15, 1, 1, 0x24, 1, 1};
  if (http) e.insert(e.end(), {0x13, 1, 1});
  m.options.Set(wire::kOptIpxeEncap, e);
  return m;
}

inline wire::DhcpMessage Binl(wire::DhcpMessage m,
                              uint8_t type = wire::kRequest) {
  m.options.SetU8(wire::kOptMessageType, type);
  m.ciaddr = kClient;
  m.flags = 0;
  return m;
}

inline ResponderConfig BaseConfig() {
  ResponderConfig c;
  c.boot_files[BootArch::kBios] = "undionly.kpxe";
  c.boot_files[BootArch::kEfiX64] = "snponly.efi";
  c.menu_url = "http://10.77.1.5/menu.ipxe?mac=${net0/mac}";
  return c;
}

inline RequestContext Port67() {
  return {kDhcpServerPort, 0, kDhcpClientPort, kServer};
}
inline RequestContext Port4011(uint16_t src_port = kPxeBinlPort) {
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

inline Want Ignored(IgnoreReason r) {
  Want w;
  w.ignore = r;
  return w;
}
inline Want Offer(const std::string& file,
                  std::optional<std::vector<uint8_t>> o43) {
  Want w;
  w.file = file;
  w.opt43 = o43;
  return w;
}
inline Want IpxeOffer(const std::string& file) {
  Want w = Offer(file, std::nullopt);
  w.priority_175 = true;
  return w;
}
inline Want Ack(const std::string& file, uint16_t dst_port = kPxeBinlPort) {
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

inline const std::vector<uint8_t> k43Bypass = {6, 1, 8, 255};
inline const std::string kMenu = "http://10.77.1.5/menu.ipxe?mac=${net0/mac}";
inline void NoChange(ResponderConfig& /*unused*/) {}
// Adds one row: a name, the request, where it came from, a change to the
// base configuration, what must come out.
using AddRow =
    std::function<void(std::string, wire::DhcpMessage, RequestContext,
                       std::function<void(ResponderConfig&)>, Want)>;

// respond_test.cc: offers on port 67 (PXE, HTTP Boot, iPXE).
void AddOfferRows(const AddRow& add);
// respond_rows_test.cc: port 4011, ignored requests, relays, options.
void AddBinlAndOtherRows(const AddRow& add);

}  // namespace respond_table
}  // namespace proxydhcp

#endif  // PXEPROXY_TESTS_RESPOND_TABLE_H_
