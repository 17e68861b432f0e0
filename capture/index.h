// Lookups over one client's timeline, built once so that the findings and
// the stage stay linear in the number of events: the DHCP events with the
// request each reply answers, the boot file a reply names, the transfers by
// file and server. Above the timeline, below the findings.
#ifndef PXEPROXY_CAPTURE_INDEX_H_
#define PXEPROXY_CAPTURE_INDEX_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "capture/timeline.h"

namespace capture {

// Iteration helper: the DHCP events of a client with their Event.
// Indexed once per client, so that the findings stay linear in the number
// of events (a client looping thousands of DISCOVER cycles).
struct DhcpRef {
  const Event* event;
  const DhcpEvent* dhcp;
  // The latest client message before this one with its xid; -1: none.
  int request = -1;
  // The first server reply with this xid since the client's latest DISCOVER
  // with it (both before this one); -1: none.
  int cycle_first_reply = -1;
  // The client's first DISCOVER with this xid (iPXE's discovery start,
  // dhcp->start in its dhcp.c), and the first corporate OFFER with it after
  // that (both before this one); -1: none.
  int discovery_start = -1;
  int first_address_offer = -1;
};
std::vector<DhcpRef> DhcpEventsOf(const ClientTimeline& c);

// The client's request that reply `i` answers: the latest one with its xid.
const DhcpEvent* RequestOf(const std::vector<DhcpRef>& all, size_t i);
bool FromKind(const std::vector<DhcpRef>& all, size_t i,
              proxydhcp::ClientKind kind);

// The boot file a reply carries: the file field, else option 67.
std::string BootFileOf(const wire::DhcpMessage& m);
// True for names of iPXE binaries (undionly.kpxe, snponly.efi, ipxe.efi...)
// or any configured boot file: what an iPXE client must not be offered.
bool LooksLikeIpxeBinary(const std::string& file,
                         const proxydhcp::ResponderConfig& config);
// iPXE drops a proxy reply whose siaddr is 0 unless it carries a 43.9 menu
// (iPXE dhcp_has_pxeopts(), docs/protocol.md "siaddr").
bool IpxeIgnores(const wire::DhcpMessage& proxy_reply);

// A client's transfers by file name and by server address, built once per
// client so that each reply's lookup is a binary search: one MAC can have
// thousands of replies and transfers in a capture.
class TransferIndex {
 public:
  explicit TransferIndex(const ClientTimeline& c);
  // The client's first TFTP request after `reply` for the file it carried
  // or to the next-server it named (another host than the server itself).
  const TftpTransfer* Followed(const Event& reply, const DhcpEvent& d) const;

 private:
  // The first of `positions` (ascending) whose RRQ is at or after `number`;
  // npos: none.
  size_t FirstFrom(const std::vector<size_t>* positions, int number) const;

  const ClientTimeline& c_;
  absl::flat_hash_map<std::string, std::vector<size_t>> by_file_;
  absl::flat_hash_map<wire::Ipv4, std::vector<size_t>> by_server_;
};

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_INDEX_H_
