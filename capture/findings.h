// The findings over one client's timeline: each function returns or adds
// named findings. Every declaration here is
// defined in a findings_*.cc file; they share the index (capture/index.h),
// the words (capture/describe.h) and the Finding type (capture/finding.h).
#ifndef PXEPROXY_CAPTURE_FINDINGS_H_
#define PXEPROXY_CAPTURE_FINDINGS_H_

#include <vector>

#include "capture/finding.h"
#include "capture/index.h"
#include "capture/timeline.h"

namespace capture {

// findings_dhcp.cc: every DHCP and port 4011 finding, in a fixed order
// (those below included).
std::vector<Finding> DhcpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config);

// findings_offers.cc: who answered, iPXE's replies, relays.
void CheckOffers(const ClientTimeline& c, const std::vector<DhcpRef>& all,
                 const AnalyzerConfig& config, std::vector<Finding>& out);
void CheckIpxe(const TransferIndex& transfers, const std::vector<DhcpRef>& all,
               const AnalyzerConfig& config, std::vector<Finding>& out);
void CheckRelay(const std::vector<DhcpRef>& all, std::vector<Finding>& out);

// findings_tftp.cc: the TFTP findings.
std::vector<Finding> TftpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_FINDINGS_H_
