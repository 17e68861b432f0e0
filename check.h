// pxeproxy --check: what an admin runs before `systemctl restart pxeproxy`.
// Validates the interfaces (exist, up, IPv4) and the boot files in the TFTP
// root (found by the server's own path rules, readable, their size), and
// prints what each kind of client would be answered, through
// proxydhcp::Respond, the daemon's decision. Needs no root: netlink is read,
// no socket is bound.
#ifndef PXEPROXY_CHECK_H_
#define PXEPROXY_CHECK_H_

#include <ostream>

#include "flags.h"

namespace pxeproxy {

// Writes the report to `out`; returns the number of problems found.
int RunCheck(const Config& config, std::ostream& out);

}  // namespace pxeproxy

#endif  // PXEPROXY_CHECK_H_
