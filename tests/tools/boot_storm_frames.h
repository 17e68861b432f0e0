// What boot_storm sends and reads: the firmware's DHCP frames replayed from a
// capture with a machine's own MAC, xid and address, the RRQs EDK2 and a BIOS
// PXE ROM send, and what a server's OACK and DHCP replies grant.
#ifndef PXEPROXY_TESTS_TOOLS_BOOT_STORM_FRAMES_H_
#define PXEPROXY_TESTS_TOOLS_BOOT_STORM_FRAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wire/addr.h"
#include "wire/dhcp_message.h"
#include "wire/tftp_packet.h"
#include "wire/udp_frame.h"

namespace boot_storm {

// The fixture capture's frames a machine replays.
struct Templates {
  wire::UdpDatagram discover_frame, ipxe_frame;
  wire::DhcpMessage discover, request, ipxe;
};
// From tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap: EDK2's
// DISCOVER, EDK2's port-4011 REQUEST, iPXE's DISCOVER.
bool LoadTemplates(const std::string& pcap, Templates* out, std::string* err);

// The DISCOVER (EDK2's, or iPXE's) as an Ethernet frame from `mac`.
std::vector<uint8_t> DiscoverFrame(const Templates& t, bool ipxe,
                                   const wire::MacAddr& mac, uint32_t xid);
// EDK2's port-4011 REQUEST from `ip`, asking for `menu_item` when the proxy
// offered a menu.
std::vector<uint8_t> Request4011(const Templates& t, const wire::MacAddr& mac,
                                 uint32_t ip, uint32_t xid,
                                 std::optional<uint16_t> menu_item);

// Option 67 (NUL-terminated or not), else the file field; nullopt if empty.
std::optional<std::string> BootFileOf(const wire::DhcpMessage& msg);
// The boot item type of the first entry of a PXE boot menu (option 43).
std::optional<uint16_t> FirstMenuItem(const wire::DhcpMessage& msg);
// The message on stderr when BOOT_STORM_TRACE is set.
void Trace(const char* what, const wire::DhcpMessage& msg);

// UEFI (OVMF): a tsize probe, then blksize 1468 windowsize 4; BIOS: blksize
// 1456 lock-step.
std::vector<uint8_t> BuildRrq(const std::string& file, bool bios, bool probing);
// What the server's OACK granted (RFC 2348, RFC 7440): values left as they
// are for an option the OACK does not carry.
void ReadOack(const wire::TftpPacket& oack, uint16_t* blksize,
              uint16_t* window);

}  // namespace boot_storm

#endif  // PXEPROXY_TESTS_TOOLS_BOOT_STORM_FRAMES_H_
