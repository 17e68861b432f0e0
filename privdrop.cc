#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace privdrop {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("dropping privileges: ", what, ": ", strerror(errno)));
}

// The three capability sets of this thread, 64 bits each (version 3 ABI).
struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

bool GetCaps(CapSets* out) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  auto join = [&](uint32_t __user_cap_data_struct::*field) {
    return uint64_t{data[0].*field} | uint64_t{data[1].*field} << 32;
  };
  out->effective = join(&__user_cap_data_struct::effective);
  out->permitted = join(&__user_cap_data_struct::permitted);
  out->inheritable = join(&__user_cap_data_struct::inheritable);
  return true;
}

bool SetCaps(const CapSets& caps) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(caps.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(caps.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> (32 * i));
  }
  return syscall(SYS_capset, &header, data) == 0;
}

int LastCap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (in >> last && last >= 0 && last < 64) return last;
  return CAP_LAST_CAP;
}

// Only an execve could use the bounding set and the ambient set, and
// pxeproxy never executes anything; shrinking them is defence in depth, so a
// kernel or container that refuses (no CAP_SETPCAP) is not an error.
void ShrinkBoundingAndAmbient(uint64_t keep) {
  for (int cap = 0; cap <= LastCap(); ++cap) {
    if (keep & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) {
      prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

absl::Status SwitchUser(const Plan& plan) {
  const uint64_t keep = KeptCapabilities();
  ShrinkBoundingAndAmbient(keep);
  // Without KEEPCAPS, setuid from 0 clears the permitted set entirely.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Errno("PR_SET_KEEPCAPS");
  // The user's supplementary groups come along, so that an administrator can
  // let it read a TFTP root by group membership.
  if (initgroups(plan.user.c_str(), plan.gid) != 0) return Errno("initgroups");
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) return Errno("setresgid");
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) return Errno("setresuid");
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  CapSets now;
  if (!GetCaps(&now)) return Errno("capget");
  CapSets want;
  want.permitted = want.effective = now.permitted & keep;
  if (!SetCaps(want)) return Errno("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Errno("PR_SET_NO_NEW_PRIVS");
  }
  // Prove it: root must be out of reach and the sets what we asked for.
  if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0) {
    return absl::InternalError("dropping privileges: root is still reachable");
  }
  if (!GetCaps(&now)) return Errno("capget");
  if (now.permitted & ~keep || now.effective & ~keep || now.inheritable) {
    return absl::InternalError(
        "dropping privileges: capabilities beyond CAP_NET_RAW remain");
  }
  return absl::OkStatus();
}

absl::Status TrimCapabilities() {
  const uint64_t keep = KeptCapabilities();
  CapSets now;
  if (!GetCaps(&now)) return Errno("capget");
  // Clearing the ambient set first: it must stay inside permitted anyway.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  CapSets want;
  want.permitted = now.permitted & keep;
  want.effective = now.effective & keep;
  if (!SetCaps(want)) return Errno("capset");
  return absl::OkStatus();
}

}  // namespace

uint64_t KeptCapabilities() { return uint64_t{1} << CAP_NET_RAW; }

absl::StatusOr<Plan> Resolve(const std::string& user,
                             const std::string& fallback) {
  Plan plan;
  if (user.empty()) return plan;
  if (geteuid() != 0) {
    CapSets now;
    if (GetCaps(&now) && (now.permitted & ~KeptCapabilities()) != 0) {
      plan.kind = Plan::Kind::kTrimCapabilities;
    }
    return plan;
  }
  errno = 0;
  struct passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr && !fallback.empty()) {
    pw = getpwnam(fallback.c_str());
    plan.fell_back = pw != nullptr;
  }
  if (pw == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--user='", user,
        "': no such user. Started as root, pxeproxy "
        "switches to this user once its sockets are open; create it (the "
        "Debian package creates _pxeproxy), name another one (e.g. "
        "--user=nobody), or give --user= to keep running as root"));
  }
  if (pw->pw_uid == 0 || pw->pw_gid == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--user='", user,
                     "': is root (uid or gid 0); give an unprivileged "
                     "user, or --user= to keep running as root"));
  }
  plan.kind = Plan::Kind::kSwitchUser;
  plan.user = pw->pw_name;
  plan.uid = pw->pw_uid;
  plan.gid = pw->pw_gid;
  return plan;
}

absl::Status Apply(const Plan& plan) {
  switch (plan.kind) {
    case Plan::Kind::kNone:
      return absl::OkStatus();
    case Plan::Kind::kSwitchUser:
      return SwitchUser(plan);
    case Plan::Kind::kTrimCapabilities:
      return TrimCapabilities();
  }
  return absl::OkStatus();
}

std::string Describe() {
  CapSets now;
  std::vector<std::string> names;
  if (GetCaps(&now)) {
    for (int cap = 0; cap < 64; ++cap) {
      if (!(now.effective & (uint64_t{1} << cap))) continue;
      if (cap == CAP_NET_RAW) {
        names.push_back("cap_net_raw");
      } else if (cap == CAP_NET_BIND_SERVICE) {
        names.push_back("cap_net_bind_service");
      } else {
        names.push_back(absl::StrCat(cap));
      }
    }
  }
  return absl::StrCat("uid=", geteuid(), " gid=", getegid(), " capabilities=",
                      names.empty() ? "none" : absl::StrJoin(names, ","));
}

}  // namespace privdrop
