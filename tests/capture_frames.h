// Frame surgery for the diagnose scenarios: find, copy, move and edit the
// packets of a real capture through wire/ and proxydhcp's codecs.
#ifndef PXEPROXY_TESTS_CAPTURE_FRAMES_H_
#define PXEPROXY_TESTS_CAPTURE_FRAMES_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/decode.h"
#include "tests/capture_scenarios.h"
#include "wire/dhcp_message.h"
#include "wire/tftp_packet.h"
#include "wire/udp_frame.h"

namespace capture_test {

using capture::Frame;
using Pred = std::function<bool(const Frame&)>;

std::optional<wire::UdpDatagram> Udp(const Frame& f);
std::optional<wire::DhcpMessage> Dhcp(const Frame& f);
std::optional<wire::TftpPacket> Tftp(const Frame& f);  // not DHCP ports

bool IsTcp(const Frame& f);
Pred ClientDhcp(uint8_t type);  // a request of that type on 67
Pred ProxyReply(uint8_t type);  // yiaddr 0 from port 67
Pred CorporateReply();          // yiaddr set
Pred Binl(uint8_t op);          // port 4011, BOOTREQUEST or BOOTREPLY
Pred IpxeDiscover();
Pred TftpOp(wire::TftpOpcode op);
bool IsDhcp(const Frame& f);

// The index of the first frame at or after `from` matching; aborts the
// test program when there is none (a scenario built on a wrong base).
size_t First(const Frames& frames, const Pred& pred, size_t from = 0);
Frames Slice(const Frames& frames, size_t begin, size_t end);
Frames Filter(const Frames& frames, const Pred& pred);

Frame Later(const Frame& f, double seconds);
Frame WithUdp(const Frame& like, const wire::UdpDatagram& d);
Frame EditDhcp(
    const Frame& like,
    const std::function<void(wire::DhcpMessage&, wire::UdpDatagram&)>& edit);
Frame WithPayload(const Frame& like, std::vector<uint8_t> payload);
// A block of frames placed `gap` seconds after `after`'s last frame.
Frames Moved(const Frames& block, const Frames& after, double gap);
Frames Concat(std::vector<Frames> parts);

std::vector<uint8_t> TftpRequest(
    const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& options);
std::vector<uint8_t> TftpError(uint16_t code, const std::string& message);
// An IPv4/UDP datagram cut into Ethernet frames of IPv4 fragments.
Frames Fragmented(const Frame& like, const wire::UdpDatagram& d,
                  uint16_t ip_id);

}  // namespace capture_test

#endif  // PXEPROXY_TESTS_CAPTURE_FRAMES_H_
