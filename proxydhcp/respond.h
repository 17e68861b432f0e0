// The decision core: given a parsed request, where it arrived and the
// configuration, the reply to send or a named reason to stay silent. Pure: no
// sockets, clock, logging or flags. The daemon and the diagnose mode's dry run
// call the very same function.
#ifndef PXEPROXY_PROXYDHCP_RESPOND_H_
#define PXEPROXY_PROXYDHCP_RESPOND_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proxydhcp/netstate.h"
#include "proxydhcp/pxe.h"
#include "proxydhcp/uefi_history.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"

namespace proxydhcp {

constexpr uint16_t kDhcpServerPort = 67;
constexpr uint16_t kDhcpClientPort = 68;
constexpr uint16_t kPxeBinlPort = 4011;

// How UEFI PXE firmware is answered on port 67 (docs/protocol.md
// "Option 43 and the UEFI strategies").
enum class UefiStrategy {
  kBinl,    // no option 43: old EDK2 keeps the offer, new EDK2 asks on 4011
  kBypass,  // 43 = {6: 8}: new EDK2 goes straight to TFTP
};
const char* UefiStrategyName(UefiStrategy s);

// Per MAC prefix overrides, first match wins.
struct MacRule {
  wire::MacAddr prefix{};
  size_t prefix_len = 0;  // octets that must match, 1..6
  std::optional<std::string> boot_file;
  std::optional<UefiStrategy> uefi_strategy;
  // boot_file=ARCH=FILE and http_boot_url=ARCH=URL, by IANA arch code;
  // before `boot_file`.
  std::map<uint16_t, std::string> arch_boot_files;
  std::map<uint16_t, std::string> http_boot_urls;
};

struct ResponderConfig {
  ClassifyConfig classify;
  std::map<BootArch, std::string> boot_files;  // absent or empty: not answered
  // What clients that are already iPXE get. Empty: the embedded menu over our
  // own TFTP, tftp://<tftp server>/<embedded_menu_name>.
  std::string menu_url;
  std::string embedded_menu_name = "pxeproxy-menu.ipxe";
  std::string http_boot_url;  // for UEFI HTTP Boot; empty: ignored
  // --boot_file=ARCH=FILE, by IANA arch code, before `boot_files`; an empty
  // FILE: not answered.
  std::map<uint16_t, std::string> arch_boot_files;
  // --http_boot_url=ARCH=URL, by IANA arch code; `http_boot_url` is x64's
  // (arch 16) when this has no entry for it.
  std::map<uint16_t, std::string> http_boot_urls;
  std::optional<wire::Ipv4> tftp_server;  // siaddr; default: our address
  UefiStrategy uefi_strategy = UefiStrategy::kBinl;
  // The adaptive UEFI strategy's window (--uefi_adaptive_window): a UEFI
  // client that DISCOVERs again this soon without reaching 4011 or TFTP gets
  // the other strategy. 0: off. Used only with a UefiRecall.
  int64_t uefi_adaptive_window_ms = 30000;
  // Answer Raspberry Pi boot ROMs (IsRaspberryPiMac, arch 0) with the
  // "Raspberry Pi Boot" option 43 instead of ignoring them.
  bool raspberry_pi = false;
  std::vector<MacRule> mac_rules;
  // 175.1 (iPXE settings priority) in replies to iPXE, so that iPXE prefers
  // our filename over a corporate server's (docs/protocol.md "Clients that
  // are already iPXE"). 0: omit.
  int8_t ipxe_priority = 1;
  // How a 4011 source and a relay's giaddr must route back (Decide).
  ReversePath reverse_path = ReversePath::kStrict;
};

struct RequestContext {
  uint16_t dst_port = kDhcpServerPort;  // 67 or 4011
  wire::Ipv4 src_ip = 0;
  uint16_t src_port = kDhcpClientPort;
  // Our address on the receiving interface, or the one the relay sent to.
  wire::Ipv4 server_ip = 0;
};

enum class IgnoreReason {
  kMalformed,             // set by the shell when parsing fails
  kNotAddressedToUs,      // set by the shell: unicast to another host
  kVlanTagged,            // set by the shell: a VLAN below the interface
  kNotBootRequest,        // op is BOOTREPLY (a server's packet)
  kNoMessageType,         // plain BOOTP or no usable option 53
  kNotPxeClient,          // no option 60 or no recognised prefix
  kRequestOnPort67,       // a REQUEST on 67 belongs to the real server
  kUnhandledMessageType,  // RELEASE, DECLINE, INFORM on 67; DISCOVER on 4011...
  kUnsupportedArch,       // an architecture pxeproxy has no flag for
  kNoBootFileForArch,     // the arch's boot file flag is empty
  kNoHttpBootUrl,         // HTTPClient without --http_boot_url
  kNoServerAddress,       // the interface has no IPv4 address
  // Decide's refusals (docs/protocol.md "Hostile LAN refusals"):
  kBadChecksum,      // IPv4 header or non-zero UDP checksum does not verify
  kBadSource,        // IP source martian or ours; 4011 from 0.0.0.0
  kBadRelayAddress,  // giaddr martian or ours
  kReversePath,      // source (4011) or giaddr does not route back (rp_filter)
  kReplyTooLarge,    // reply above 576 bytes / option 57 / the MTU
  // A Raspberry Pi boot ROM (arch 0 from a Pi MAC prefix) without
  // --raspberry_pi: never an x86 file for it.
  kRaspberryPi,
};
const char* IgnoreReasonName(IgnoreReason r);
std::vector<IgnoreReason> AllIgnoreReasons();

struct Ignore {
  IgnoreReason reason;
  // For the log line (filled by Decide): the offending or source address,
  // the client's MAC and xid when the DHCP message parsed, parse detail.
  wire::Ipv4 address = 0;
  std::optional<wire::MacAddr> mac;
  uint32_t xid = 0;
  std::string detail;
  // Option 50 or ciaddr of a parsed request (the address a client's TFTP
  // requests will come from; UefiHistory::LearnAddress).
  wire::Ipv4 requested = 0;
};

struct Reply {
  wire::DhcpMessage message;
  wire::Ipv4 src_ip = 0;
  uint16_t src_port = kDhcpServerPort;
  wire::Ipv4 dst_ip = 0;
  uint16_t dst_port = kDhcpClientPort;
  // true: a broadcast frame on the receiving interface; false: unicast to
  // dst_ip through the kernel's routing (relays, port 4011).
  bool broadcast = true;
  ClientInfo client;
  std::string boot_file;  // what went into file and option 67
  // A UEFI PXE offer on port 67: the strategy it used, and whether the
  // adaptive memory (UefiRecall) switched it from the one offered last.
  std::optional<UefiStrategy> uefi_strategy;
  bool uefi_switched = false;
  // Filled by Decide: what to send, and the receiving interface. With
  // `broadcast`, an Ethernet frame for that interface; otherwise an IPv4
  // packet for the raw socket.
  int ifindex = 0;
  std::vector<uint8_t> bytes;
};

using Decision = std::variant<Reply, Ignore>;

// `recall`: earlier offers, for the adaptive UEFI strategy (none: the
// configured strategy, as before).
Decision Respond(const wire::DhcpMessage& request,
                 const RequestContext& context, const ResponderConfig& config,
                 const UefiRecall& recall = {});

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_RESPOND_H_
