// Dropping root after the sockets are open (--user): pxeproxy started by hand
// as root switches to an unprivileged user and keeps only CAP_NET_RAW.
//
// Two steps, so that a bad --user is a configuration error reported before
// anything is bound, and the switch itself happens after every socket (the
// AF_PACKET receivers, the raw sender, port 4011, TFTP port 69) is open:
//
//   absl::StatusOr<privdrop::Plan> plan = privdrop::Resolve(user);  // early
//   ... open every socket ...
//   absl::Status s = privdrop::Apply(*plan);                          // late
//
// Linux-only; no libcap: capget/capset are called through syscall(2).
#ifndef PXEPROXY_PRIVDROP_H_
#define PXEPROXY_PRIVDROP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace privdrop {

// Capabilities kept after the switch, as a bit mask of CAP_* numbers.
// CAP_NET_RAW only: the sockets that needed CAP_NET_BIND_SERVICE are bound.
uint64_t KeptCapabilities();

struct Plan {
  enum class Kind {
    kNone,              // --user= given, or nothing to drop: stay as we are
    kSwitchUser,        // root: become `user`, keep KeptCapabilities()
    kTrimCapabilities,  // not root but holding capabilities (systemd's
                        // AmbientCapabilities=): keep only KeptCapabilities()
  };
  Kind kind = Kind::kNone;
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  bool fell_back = false;  // `user` did not exist; `fallback` is planned
};

// Decides what Apply will do. Started as root with a non-empty `user` that
// does not exist or is root itself: an InvalidArgument error naming --user,
// unless `fallback` (non-empty) exists: then that user is planned instead and
// Plan::fell_back is set (so that `pxeproxy eth0` from a source build, where
// the package's _pxeproxy user does not exist, still drops root).
absl::StatusOr<Plan> Resolve(const std::string& user,
                             const std::string& fallback = "");

// Carries out the plan: setgroups/setgid/setuid with PR_SET_KEEPCAPS, then
// capset, a smaller bounding set, no ambient capabilities and no_new_privs.
// Verifies the result (regaining root must fail). An error here means the
// process is in an unknown state and must exit.
absl::Status Apply(const Plan& plan);

// One line for the log: "uid=... gid=... capabilities=cap_net_raw".
std::string Describe();

}  // namespace privdrop

#endif  // PXEPROXY_PRIVDROP_H_
