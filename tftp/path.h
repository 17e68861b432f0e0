// Turning a client's file name into a file we may serve. Two steps: a pure
// lexical check (NormalizeName) and the filesystem check (PathPolicy::Resolve)
// that follows symlinks only to regular files inside the root or an allowed
// directory.
#ifndef PXEPROXY_TFTP_PATH_H_
#define PXEPROXY_TFTP_PATH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "wire/tftp_packet.h"

namespace tftp {

// Longer names are refused: the DHCP `file` field is 128 bytes and no boot
// loader we know asks for more than a few hundred.
constexpr size_t kMaxNameLength = 255;

// Refusals are statuses: absl::NotFoundError when nothing is there (TFTP
// error 1), absl::PermissionDeniedError otherwise (error 2); the message is
// the short reason for the ERROR packet and the log.
// The TFTP error code a refusal from NormalizeName or PathPolicy is sent as.
wire::TftpErrorCode RefusalCode(const absl::Status& refusal);

// The name relative to the root ("a/b/c", never empty, no "." or ".."): `\`
// read as `/` (Windows-minded ROMs and pxelinux configs send
// `boot\x86\pxelinux.0`), leading and repeated slashes and "." dropped.
// Refuses empty and over-long names, control bytes, invalid UTF-8 and any
// ".." component.
absl::StatusOr<std::string> NormalizeName(absl::string_view name);

// A file PathPolicy::Open opened: `fd` is O_RDONLY | O_NONBLOCK, of a
// regular file (the caller closes it); `path` names it for logs.
struct OpenedFile {
  int fd = -1;
  std::string path;
};

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
  // and is then opened beneath that directory the same way. Refusals: not
  // found (1) when nothing is there, access violation (2) otherwise.
  absl::StatusOr<OpenedFile> Open(absl::string_view name) const;
  // Open, then closes the descriptor: only the path (tests, tools).
  absl::StatusOr<std::string> Resolve(absl::string_view name) const;

  const std::string& root() const { return root_; }

 private:
  bool Allowed(const std::string& real) const;
  // The allowed directory that holds `real`, or empty.
  std::string AllowedDir(const std::string& real) const;
  absl::StatusOr<OpenedFile> OpenOutside(const std::string& candidate) const;

  std::string root_;                // canonical, no trailing slash
  std::vector<std::string> allow_;  // canonical; includes root_
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_PATH_H_
