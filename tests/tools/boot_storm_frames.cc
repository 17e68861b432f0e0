#include "tests/tools/boot_storm_frames.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "pcap_frames.h"
#include "wire/decimal.h"
#include "wire/pxe_options.h"

namespace boot_storm {
namespace {

// Frames of the fixture capture (1-based, as tcpdump numbers them).
constexpr int kEdk2Discover = 8;
constexpr int kEdk2Request4011 = 18;
constexpr int kIpxeDiscover = 264;

}  // namespace

bool LoadTemplates(const std::string& pcap, Templates* out, std::string* err) {
  auto frames = testing_util::ReadPcap(pcap, err);
  if (frames.size() < kIpxeDiscover) return false;
  auto dhcp_of = [&](int no, wire::UdpDatagram* d, wire::DhcpMessage* m) {
    auto udp = wire::ParseEthernetUdp(frames[no - 1].bytes);
    if (!udp.ok()) return false;
    auto msg = wire::ParseDhcp(udp->payload);
    if (!msg.ok()) return false;
    *d = *udp;
    *m = *msg;
    return true;
  };
  wire::UdpDatagram unused;
  return dhcp_of(kEdk2Discover, &out->discover_frame, &out->discover) &&
         dhcp_of(kEdk2Request4011, &unused, &out->request) &&
         dhcp_of(kIpxeDiscover, &out->ipxe_frame, &out->ipxe) &&
         out->ipxe.options.Has(wire::kOptIpxeEncap);
}

std::vector<uint8_t> DiscoverFrame(const Templates& t, bool ipxe,
                                   const wire::MacAddr& mac, uint32_t xid) {
  wire::DhcpMessage msg = ipxe ? t.ipxe : t.discover;
  msg.xid = xid;
  std::copy(mac.begin(), mac.end(), msg.chaddr.begin());
  // iPXE asks from its DHCP address once it has one; the template's
  // (0.0.0.0 while discovering) is kept, as on the wire.
  wire::UdpDatagram d = ipxe ? t.ipxe_frame : t.discover_frame;
  d.src_mac = mac;
  d.payload = wire::SerializeDhcp(msg);
  return wire::BuildEthernetUdp(d);
}

std::vector<uint8_t> Request4011(const Templates& t, const wire::MacAddr& mac,
                                 uint32_t ip, uint32_t xid,
                                 std::optional<uint16_t> menu_item) {
  wire::DhcpMessage msg = t.request;
  msg.xid = xid;
  msg.ciaddr = ip;
  std::copy(mac.begin(), mac.end(), msg.chaddr.begin());
  if (menu_item) {  // the item this server offered, layer 0
    msg.options.Set(wire::kOptVendorSpecific,
                    {71, 4, static_cast<uint8_t>(*menu_item >> 8),
                     static_cast<uint8_t>(*menu_item), 0, 0, 255});
  }
  return wire::SerializeDhcp(msg);
}

// Option 67 may be sent NUL-terminated (pxeproxy does, for EDK2): the name
// ends at the first NUL, as in the firmware.
std::optional<std::string> BootFileOf(const wire::DhcpMessage& msg) {
  std::optional<std::string> file =
      msg.options.GetString(wire::kOptBootfileName);
  if (!file && !msg.file.empty()) file = msg.file;
  if (file) file = file->substr(0, file->find('\0'));
  if (file && file->empty()) file.reset();
  return file;
}

// Sub-option 9 of option 43 is the menu (type, description length,
// description), whose first type EDK2 puts into its 4011 REQUEST as
// sub-option 71 (PXE spec 2.1, Table 2-1).
std::optional<uint16_t> FirstMenuItem(const wire::DhcpMessage& msg) {
  auto v = msg.options.Get(wire::kOptVendorSpecific);
  if (!v) return std::nullopt;
  auto subs = wire::ParseSubOptions(*v);
  if (!subs) return std::nullopt;
  auto menu = subs->find(9);
  if (menu == subs->end() || menu->second.size() < 3) return std::nullopt;
  return menu->second[0] << 8 | menu->second[1];
}

void Trace(const char* what, const wire::DhcpMessage& msg) {
  if (getenv("BOOT_STORM_TRACE") == nullptr) return;
  std::fprintf(stderr, "%s xid=%08x siaddr=%08x file='%s'", what, msg.xid,
               msg.siaddr, msg.file.c_str());
  for (const auto& [code, v] : msg.options.all()) {
    std::fprintf(stderr, " %d:", code);
    for (uint8_t b : v) std::fprintf(stderr, "%02x", b);
  }
  std::fprintf(stderr, "\n");
}

std::vector<uint8_t> BuildRrq(const std::string& file, bool bios,
                              bool probing) {
  std::vector<uint8_t> rrq = {0, 1};
  auto put = [&](const std::string& s) {
    rrq.insert(rrq.end(), s.begin(), s.end());
    rrq.push_back(0);
  };
  put(file);
  put("octet");
  if (bios) {
    put("blksize"), put("1456");
  } else {
    if (probing) put("tsize"), put("0");
    put("blksize"), put("1468"), put("windowsize"), put("4");
  }
  return rrq;
}

void ReadOack(const wire::TftpPacket& oack, uint16_t* blksize,
              uint16_t* window) {
  auto granted = [&](const char* name, uint16_t* out) {
    std::optional<std::string> s = wire::TftpOption(oack, name);
    uint64_t v = 0;
    if (s && wire::ParseDecimal(*s, &v) && v > 0 && v <= 65535) {
      *out = static_cast<uint16_t>(v);
    }
  };
  granted("blksize", blksize);
  granted("windowsize", window);
}

}  // namespace boot_storm
