// Stable, human-readable text for DHCP messages and decisions: the golden
// files, the logs and the diagnose mode all render through these.
#ifndef PXEPROXY_PROXYDHCP_DESCRIBE_H_
#define PXEPROXY_PROXYDHCP_DESCRIBE_H_

#include <string>

#include "proxydhcp/respond.h"
#include "wire/dhcp_message.h"

namespace proxydhcp {

// Multi-line: the fixed fields that are set, then one line per option with a
// typed rendering for the options PXE uses and hex for the rest.
std::string DescribeMessage(const wire::DhcpMessage& m);
// One option's value, e.g. "PXEClient:Arch:00007", "[6:08]", "10.0.0.1".
std::string DescribeOption(uint8_t code, absl::Span<const uint8_t> value);
// "ignore <reason>" or "reply OFFER to 255.255.255.255:68 ..." plus the reply.
std::string DescribeDecision(const Decision& d);

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_DESCRIBE_H_
