// Turning a client's file name into a file we may serve. Two steps: a pure
// lexical check (NormalizeName) and the filesystem check (PathPolicy::Resolve)
// that follows symlinks only to regular files inside the root or an allowed
// directory.
#ifndef PXEPROXY_TFTP_PATH_H_
#define PXEPROXY_TFTP_PATH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "wire/tftp_packet.h"

namespace tftp {

// Longer names are refused: the DHCP `file` field is 128 bytes and no boot
// loader we know asks for more than a few hundred.
constexpr size_t kMaxNameLength = 255;

struct NameRefusal {
  wire::TftpErrorCode code = wire::TftpErrorCode::kAccessViolation;
  std::string reason;  // short, for the ERROR packet and the log
};

// The name relative to the root: `\` read as `/` (Windows-minded ROMs and
// pxelinux configs send `boot\x86\pxelinux.0`), leading and repeated slashes
// and "." dropped. Refuses empty and over-long names, control bytes, invalid
// UTF-8 and any ".." component.
struct Normalized {
  std::string relative;  // "a/b/c", never empty, no "." or ".."
};
bool NormalizeName(absl::string_view name, Normalized* out, NameRefusal* why);

class PathPolicy {
 public:
  // `root` and `allow` must exist; they are canonicalized (realpath) once.
  static absl::StatusOr<PathPolicy> Create(
      const std::string& root, const std::vector<std::string>& allow);

  // Opens the regular file a client's name means, in one step that no
  // rename can race: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from
  // the root, so a directory swapped for a symlink between a check and the
  // open cannot lead out. A symlink leading out of the root (the kernel says
  // EXDEV) is followed only when its target is inside an allowed directory,
  // and is then opened beneath that directory the same way. On success
  // `*fd` is an O_RDONLY | O_NONBLOCK descriptor of a regular file (the
  // caller closes it) and `*path` names it for logs. Refusals: not found (1)
  // when nothing is there, access violation (2) otherwise.
  bool Open(absl::string_view name, int* fd, std::string* path,
            NameRefusal* why) const;
  // Open, then closes the descriptor: only the path (tests, tools).
  bool Resolve(absl::string_view name, std::string* path,
               NameRefusal* why) const;

  const std::string& root() const { return root_; }

 private:
  bool Allowed(const std::string& real) const;
  // The allowed directory that holds `real`, or empty.
  std::string AllowedDir(const std::string& real) const;
  bool OpenOutside(const std::string& candidate, int* fd, std::string* path,
                   NameRefusal* why) const;

  std::string root_;                // canonical, no trailing slash
  std::vector<std::string> allow_;  // canonical; includes root_
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_PATH_H_
