// Per-client boot timelines built from a sequence of captured frames: every
// DHCP message (corporate, proxy, client), port 4011, TFTP transfers and HTTP
// requests, grouped by client MAC. Pure: frames in, values out; the dry run
// calls proxydhcp::Respond, the daemon's own decision core.
#ifndef PXEPROXY_CAPTURE_TIMELINE_H_
#define PXEPROXY_CAPTURE_TIMELINE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "capture/decode.h"
#include "proxydhcp/netstate.h"
#include "proxydhcp/pxe.h"
#include "proxydhcp/respond.h"
#include "proxydhcp/uefi_history.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"
#include "wire/pxe_options.h"
#include "wire/tftp_packet.h"

namespace capture {

// Who sent a DHCP message. A proxy's reply is one on port 4011, an OFFER
// with yiaddr 0 (what EDK2 and iPXE test too) or an ACK with option 60
// PXEClient/HTTPClient, never an ACK to a DHCPINFORM; the rest (addresses,
// NAKs, INFORM answers) are the corporate server's.
enum class Role { kClient, kCorporate, kProxy };
const char* RoleName(Role r);

// What pxeproxy with the given flags would do with a request.
struct DryRun {
  bool answers = false;
  std::string ignore_reason;  // IgnoreReasonName when silent
  proxydhcp::Reply reply;     // when it answers
};

struct DhcpEvent {
  wire::DhcpMessage msg;
  uint8_t type = 0;
  Role role = Role::kClient;
  bool binl = false;  // port 4011
  wire::Ipv4 src_ip = 0;
  wire::Ipv4 dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::optional<proxydhcp::ClientInfo> client;  // client messages
  std::optional<DryRun> dry_run;                // DISCOVER, 4011 requests
  wire::Ipv4 server_id() const;                 // 54, else the source
};

enum class TftpStep { kRrq, kOack, kError, kDone, kStalled };

struct TftpEvent {
  TftpStep step = TftpStep::kRrq;
  int transfer = 0;  // index into ClientTimeline::transfers
  wire::TftpPacket packet;
  bool from_client = false;
};

struct HttpEvent {
  HttpRequest request;
  wire::Ipv4 server = 0;
  uint16_t port = 0;
};

struct MalformedEvent {
  std::string what;
};

struct Event {
  int number = 0;
  absl::Time time;
  std::variant<DhcpEvent, TftpEvent, HttpEvent, MalformedEvent> body;
};

struct TftpTransfer {
  int rrq_number = 0;
  absl::Time rrq_time;
  int rrq_count = 0;  // retransmissions included
  wire::Ipv4 client_ip = 0;
  uint16_t client_port = 0;
  wire::Ipv4 server_ip = 0;  // where the RRQ went
  std::string filename;
  wire::TftpPacket rrq;
  std::optional<wire::Ipv4> reply_ip;  // where the answers came from
  uint16_t server_port = 0;            // the server's TID
  int first_reply_number = 0;
  absl::Time first_reply_time;
  int oack_number = 0;
  absl::Time oack_time;
  size_t blksize = 512;
  bool acked_block0 = false;
  bool acked_block1 = false;
  uint16_t last_block = 0;  // highest DATA block in sequence
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  bool done = false;
  int end_number = 0;
  absl::Time end_time;
  bool error = false;
  bool error_from_client = false;
  uint16_t error_code = 0;
  bool size_probe = false;  // client aborted after an OACK to read tsize
  int fragments = 0;        // IPv4 fragments from the server to the client
  int first_fragment_number = 0;
  absl::Time first_fragment_time;
  int last_number = 0;  // the transfer's latest packet
  absl::Time last_time;
};

struct ClientTimeline {
  wire::MacAddr mac{};
  bool boot_client = false;     // sent a PXEClient/HTTPClient/iPXE request
  std::vector<wire::Ipv4> ips;  // addresses seen for it
  std::vector<Event> events;    // capture order
  std::vector<TftpTransfer> transfers;
};

struct Timeline {
  std::vector<ClientTimeline> clients;  // in order of first appearance
  int frames = 0;
  int decode_errors = 0;
  std::vector<std::pair<int, std::string>> error_samples;  // first few
  int other_dhcp_clients = 0;  // DHCP clients that are not booting
  absl::Time first_time;
  absl::Time last_time;
  std::vector<wire::Ipv4> proxies;  // server ids of proxy replies, in order
  // DHCP events not kept (a live diagnosis on a busy segment stays bounded):
  // a client that is not network-booting keeps its first few only, a boot
  // client its first kMaxClientEvents.
  int64_t events_dropped = 0;
};
constexpr size_t kMaxOtherClientEvents = 4;
constexpr size_t kMaxClientEvents = 100000;

struct AnalyzerConfig {
  proxydhcp::ResponderConfig responder;
  // pxeproxy's own addresses for the dry run (live: the watched
  // interface's, primaries first). Empty: a documentation address
  // (192.0.2.1) that the output shows as "<this host>".
  std::vector<proxydhcp::IfAddr> self_addresses;
};

constexpr wire::Ipv4 kPlaceholderSelf = 0xc0000201;  // 192.0.2.1, RFC 5737

class TimelineBuilder {
 public:
  TimelineBuilder(LinkType link, AnalyzerConfig config);
  void Add(const Frame& frame);
  // What was gathered so far (the live mode's running feed); events of a
  // client only ever grow until Finish.
  const Timeline& sofar() const { return t_; }
  Timeline Finish() &&;

 private:
  struct TransferRef {
    size_t client;
    size_t transfer;
  };
  void AddDhcp(const Frame& f, const Packet& p, bool binl);
  void AddTftpRequest(const Frame& f, const Packet& p);
  bool AddTftpTransfer(const Frame& f, const Packet& p);
  void AddHttp(const Frame& f, const Packet& p);
  void AddFragment(const Frame& f, const Packet& p);
  std::optional<size_t> ClientByIp(wire::Ipv4 ip) const;
  size_t ClientFor(const wire::MacAddr& mac);
  void LearnIp(size_t client, wire::Ipv4 ip);
  DryRun RunDry(const DhcpEvent& e, const Packet& p, absl::Time when);

  LinkType link_;
  AnalyzerConfig config_;
  Timeline t_;
  std::map<wire::MacAddr, size_t> by_mac_;
  // The adaptive UEFI strategy's memory, kept as the daemon keeps it, so
  // that the dry run answers a client's repeated DISCOVER as pxeproxy would.
  proxydhcp::UefiHistory uefi_history_;
  std::map<wire::Ipv4, size_t> by_ip_;
  // (client, xid) -> the type of the client's latest request on port 67.
  std::map<std::pair<size_t, uint32_t>, uint8_t> last_request_;
  // (client ip, client port) -> the newest transfer using it.
  std::map<std::pair<wire::Ipv4, uint16_t>, TransferRef> transfers_;
  // Indexes that keep every frame's work logarithmic however many addresses,
  // transfers or proxies a capture holds (a hostile host can make many):
  // (client, ip) already in the client's `ips`; the proxies already listed;
  // (client, the address a transfer's packets come from: reply_ip, else
  // server_ip) -> its transfers, for matching IPv4 fragments.
  absl::flat_hash_set<std::pair<size_t, wire::Ipv4>> known_ips_;
  absl::flat_hash_set<wire::Ipv4> known_proxies_;
  std::map<std::pair<size_t, wire::Ipv4>, std::set<size_t>> by_source_;
};

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_TIMELINE_H_
