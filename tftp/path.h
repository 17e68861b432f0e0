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
#include "tftp/packet.h"

namespace tftp {

// Longer names are refused: the DHCP `file` field is 128 bytes and no boot
// loader we know asks for more than a few hundred.
constexpr size_t kMaxNameLength = 255;

struct Refusal {
  ErrorCode code = ErrorCode::kAccessViolation;
  std::string reason;  // short, for the ERROR packet and the log
};

// The name relative to the root: `\` read as `/` (Windows-minded ROMs and
// pxelinux configs send `boot\x86\pxelinux.0`), leading and repeated slashes
// and "." dropped. Refuses empty and over-long names, control bytes, invalid
// UTF-8 and any ".." component.
struct Normalized {
  std::string relative;  // "a/b/c", never empty, no "." or ".."
};
bool NormalizeName(absl::string_view name, Normalized* out, Refusal* why);

class PathPolicy {
 public:
  // `root` and `allow` must exist; they are canonicalized (realpath) once.
  static absl::StatusOr<PathPolicy> Create(
      const std::string& root, const std::vector<std::string>& allow);

  // The canonical path of a regular file we may serve, or the refusal:
  // not found (1) when nothing is there, access violation (2) otherwise.
  bool Resolve(absl::string_view name, std::string* path, Refusal* why) const;

  const std::string& root() const { return root_; }

 private:
  bool Allowed(const std::string& real) const;

  std::string root_;                // canonical, no trailing slash
  std::vector<std::string> allow_;  // canonical; includes root_
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_PATH_H_
