// Plain-words descriptions of timeline events and dry runs, shared by the
// findings and both renderers.
#ifndef PXEPROXY_CAPTURE_DESCRIBE_H_
#define PXEPROXY_CAPTURE_DESCRIBE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "capture/timeline.h"

namespace capture {

// Non-printable bytes as \xNN, so hostile names cannot drive the terminal.
std::string Printable(absl::string_view s);
// An address, with pxeproxy's placeholder shown as "<this host>".
std::string Ip(wire::Ipv4 ip);
// One timeline line, without packet number or time.
std::string DescribeEvent(const ClientTimeline& c, const Event& e);
// "would OFFER snponly.efi (...)" or "would stay silent: reason".
std::string DescribeDryRun(const DryRun& d);
// "UEFI x64 PXE firmware (PXEClient:Arch:00007:UNDI:003000), then iPXE".
std::string DescribeClient(const ClientTimeline& c);
// A short label for an architecture: "BIOS", "UEFI x64", "UEFI ARM64".
std::string ArchLabel(uint16_t arch);

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

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DESCRIBE_H_
