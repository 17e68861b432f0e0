// The pieces of tests/capture_scenarios.cc's table: what makes each broken
// boot from a real capture, and the helpers they share.
#ifndef PXEPROXY_TESTS_CAPTURE_SCENARIO_MAKERS_H_
#define PXEPROXY_TESTS_CAPTURE_SCENARIO_MAKERS_H_

#include <vector>

#include "tests/capture_frames.h"
#include "tests/capture_scenarios.h"
#include "wire/addr.h"

namespace capture_test {

// capture_scenarios.cc: shared helpers.
wire::Ipv4 Ip(const char* text);
// TFTP DATA cut to 64 captured bytes, as tcpdump -s 64 would: keeps the
// fixtures small and exercises the snap-length path (sizes from IPv4).
Frames Snapped(Frames in);
// Frames up to the first HTTP (TCP) frame: the client never got further.
Frames BeforeHttp(const Frames& in);
// The client DISCOVERs again after each of `delays` (seconds after the
// frames so far), each time answered by `answers`.
Frames Retries(const Frames& sofar, const Frame& discover,
               const Frames& answers, std::vector<double> delays);

// capture_scenarios_dhcp.cc
Frames CorporateBootFile(Frames in);
Frames TwoProxies(Frames in);
Frames BinlUnanswered(Frames in);
Frames RelayBroadcast(Frames in);
Frames Arm64NoBootFile(Frames in);
Frames Edk2Drop(Frames in);
Frames NoCorporateOffer(Frames in);
Frames NoProxy(Frames in);
Frames CorporateNoPxeDhcp(Frames in);
Frames CorporatePxeClientNoFile(Frames in);
Frames CaptureEnded(Frames in);
Frames DhcpNak(Frames in);

// capture_scenarios_ipxe_tftp.cc
Frames IpxeLoop(Frames in);
Frames IpxeLateProxy(Frames in);
Frames IpxeLateFromDiscovery(Frames in);
Frames IpxeNoSiaddr(Frames in);
Frames TftpBlocked(Frames in);
Frames TftpBlksizeMtu(Frames in);
Frames TftpOptionRefused(Frames in);
Frames RrqGarbage(Frames in);
Frames TftpWrongSource(Frames in);
Frames TftpIncomplete(Frames in);

}  // namespace capture_test

#endif  // PXEPROXY_TESTS_CAPTURE_SCENARIO_MAKERS_H_
