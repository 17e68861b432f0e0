#include "tftp/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "wire/status_macros.h"

namespace tftp {
namespace {

// Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(n)) return false;
    for (int k = 1; k <= n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

absl::Status Refuse(wire::TftpErrorCode code, absl::string_view reason) {
  return code == wire::TftpErrorCode::kNotFound
             ? absl::NotFoundError(reason)
             : absl::PermissionDeniedError(reason);
}

absl::Status CheckBytes(absl::string_view name) {
  if (name.empty()) {
    return Refuse(wire::TftpErrorCode::kAccessViolation, "empty file name");
  }
  if (name.size() > kMaxNameLength) {
    return Refuse(wire::TftpErrorCode::kAccessViolation, "file name too long");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Refuse(wire::TftpErrorCode::kAccessViolation,
                    "control byte in file name");
    }
  }
  if (!IsValidUtf8(name)) {
    return Refuse(wire::TftpErrorCode::kAccessViolation,
                  "file name is not UTF-8");
  }
  return absl::OkStatus();
}

}  // namespace

wire::TftpErrorCode RefusalCode(const absl::Status& refusal) {
  return absl::IsNotFound(refusal) ? wire::TftpErrorCode::kNotFound
                                   : wire::TftpErrorCode::kAccessViolation;
}

absl::StatusOr<std::string> NormalizeName(absl::string_view name) {
  RETURN_IF_ERROR(CheckBytes(name));
  std::string slashed(name);
  for (char& c : slashed) {
    if (c == '\\') c = '/';
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(slashed, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return Refuse(wire::TftpErrorCode::kAccessViolation, "'..' in file name");
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    return Refuse(wire::TftpErrorCode::kAccessViolation, "no file in the name");
  }
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<PathPolicy> PathPolicy::Create(
    const std::string& root, const std::vector<std::string>& allow) {
  PathPolicy p;
  char buf[PATH_MAX];
  if (realpath(root.c_str(), buf) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("tftp root ", root, ": ", strerror(errno)));
  }
  p.root_ = buf;
  p.allow_.push_back(p.root_);
  for (const std::string& dir : allow) {
    // A missing allowed directory (the ipxe package not installed) is not an
    // error: no symlink can point into it.
    if (realpath(dir.c_str(), buf) != nullptr) p.allow_.push_back(buf);
  }
  return p;
}

bool PathPolicy::Allowed(const std::string& real) const {
  return !AllowedDir(real).empty();
}

std::string PathPolicy::AllowedDir(const std::string& real) const {
  for (const std::string& dir : allow_) {
    if (dir == "/") return dir;
    if (real.size() > dir.size() && real.compare(0, dir.size(), dir) == 0 &&
        real[dir.size()] == '/') {
      return dir;
    }
  }
  return "";
}

namespace {

// `rel` opened beneath `dir`: no "..", absolute symlink or magic link may
// take the lookup out of it (Linux 5.6). -1 with errno set otherwise.
int OpenBeneath(const std::string& dir, const std::string& rel) {
  int dfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  open_how how{};
  how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(
        syscall(SYS_openat2, dfd, rel.c_str(), &how, sizeof(how)));
  } while (fd < 0 && errno == EAGAIN);
  int saved = errno;
  close(dfd);
  errno = saved;
  return fd;
}

absl::Status OpenError(int err) {
  if (err == ENOENT || err == ENOTDIR) {
    return Refuse(wire::TftpErrorCode::kNotFound, "file not found");
  }
  return Refuse(wire::TftpErrorCode::kAccessViolation, "cannot open file");
}

// A regular file, or the descriptor is closed and the refusal returned.
absl::Status KeepRegular(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Refuse(wire::TftpErrorCode::kAccessViolation, "not a regular file");
  }
  return absl::OkStatus();
}

// The canonical name of what `fd` opened (for logs and the cache's label),
// read from /proc; `fallback` without /proc.
std::string FdPath(int fd, std::string fallback) {
  char buf[PATH_MAX];
  std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0 || buf[0] != '/') return fallback;
  return std::string(buf, n);
}

}  // namespace

// A symlink in the root leads out of it. Where it leads now is read with
// realpath; that target is then opened beneath the allowed directory that
// holds it, so whatever changes in between, the file opened is inside an
// allowed directory.
absl::StatusOr<OpenedFile> PathPolicy::OpenOutside(
    const std::string& candidate) const {
  char buf[PATH_MAX];
  if (realpath(candidate.c_str(), buf) == nullptr) return OpenError(errno);
  std::string real = buf;
  std::string dir = AllowedDir(real);
  if (dir.empty()) {
    return Refuse(wire::TftpErrorCode::kAccessViolation,
                  "outside the tftp root");
  }
  std::string rel = real.substr(dir == "/" ? 1 : dir.size() + 1);
  int f = OpenBeneath(dir, rel);
  if (f < 0) {
    return errno == EXDEV ? Refuse(wire::TftpErrorCode::kAccessViolation,
                                   "outside the tftp root")
                          : OpenError(errno);
  }
  RETURN_IF_ERROR(KeepRegular(f));
  return OpenedFile{f, std::move(real)};
}

absl::StatusOr<OpenedFile> PathPolicy::Open(absl::string_view name) const {
  ASSIGN_OR_RETURN(std::string relative, NormalizeName(name));
  std::string candidate = absl::StrCat(root_, "/", relative);
  int f = OpenBeneath(root_, relative);
  if (f < 0 && errno == EXDEV) return OpenOutside(candidate);
  if (f < 0) return OpenError(errno);
  RETURN_IF_ERROR(KeepRegular(f));
  return OpenedFile{f, FdPath(f, std::move(candidate))};
}

absl::StatusOr<std::string> PathPolicy::Resolve(absl::string_view name) const {
  ASSIGN_OR_RETURN(OpenedFile file, Open(name));
  close(file.fd);
  return std::move(file.path);
}

}  // namespace tftp
