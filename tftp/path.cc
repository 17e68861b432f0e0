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

NameRefusal Refuse(wire::TftpErrorCode code, std::string reason) {
  return {code, std::move(reason)};
}

}  // namespace

bool NormalizeName(absl::string_view name, Normalized* out, NameRefusal* why) {
  if (name.empty()) {
    *why = Refuse(wire::TftpErrorCode::kAccessViolation, "empty file name");
    return false;
  }
  if (name.size() > kMaxNameLength) {
    *why = Refuse(wire::TftpErrorCode::kAccessViolation, "file name too long");
    return false;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      *why = Refuse(wire::TftpErrorCode::kAccessViolation,
                    "control byte in file name");
      return false;
    }
  }
  if (!IsValidUtf8(name)) {
    *why =
        Refuse(wire::TftpErrorCode::kAccessViolation, "file name is not UTF-8");
    return false;
  }
  std::string slashed(name);
  for (char& c : slashed) {
    if (c == '\\') c = '/';
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(slashed, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      *why = Refuse(wire::TftpErrorCode::kAccessViolation, "'..' in file name");
      return false;
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    *why = Refuse(wire::TftpErrorCode::kAccessViolation, "no file in the name");
    return false;
  }
  out->relative = absl::StrJoin(parts, "/");
  return true;
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

NameRefusal OpenError(int err) {
  if (err == ENOENT || err == ENOTDIR) {
    return Refuse(wire::TftpErrorCode::kNotFound, "file not found");
  }
  return Refuse(wire::TftpErrorCode::kAccessViolation, "cannot open file");
}

// A regular file, or the descriptor is closed and the refusal set.
bool KeepRegular(int fd, NameRefusal* why) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    *why = Refuse(wire::TftpErrorCode::kAccessViolation, "not a regular file");
    return false;
  }
  return true;
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
bool PathPolicy::OpenOutside(const std::string& candidate, int* fd,
                             std::string* path, NameRefusal* why) const {
  char buf[PATH_MAX];
  if (realpath(candidate.c_str(), buf) == nullptr) {
    *why = OpenError(errno);
    return false;
  }
  std::string real = buf;
  std::string dir = AllowedDir(real);
  if (dir.empty()) {
    *why =
        Refuse(wire::TftpErrorCode::kAccessViolation, "outside the tftp root");
    return false;
  }
  std::string rel = real.substr(dir == "/" ? 1 : dir.size() + 1);
  int f = OpenBeneath(dir, rel);
  if (f < 0) {
    *why = errno == EXDEV ? Refuse(wire::TftpErrorCode::kAccessViolation,
                                   "outside the tftp root")
                          : OpenError(errno);
    return false;
  }
  if (!KeepRegular(f, why)) return false;
  *fd = f;
  *path = std::move(real);
  return true;
}

bool PathPolicy::Open(absl::string_view name, int* fd, std::string* path,
                      NameRefusal* why) const {
  Normalized n;
  if (!NormalizeName(name, &n, why)) return false;
  std::string candidate = absl::StrCat(root_, "/", n.relative);
  int f = OpenBeneath(root_, n.relative);
  if (f < 0 && errno == EXDEV) {
    return OpenOutside(candidate, fd, path, why);
  }
  if (f < 0) {
    *why = OpenError(errno);
    return false;
  }
  if (!KeepRegular(f, why)) return false;
  *fd = f;
  *path = FdPath(f, std::move(candidate));
  return true;
}

bool PathPolicy::Resolve(absl::string_view name, std::string* path,
                         NameRefusal* why) const {
  int fd = -1;
  if (!Open(name, &fd, path, why)) return false;
  close(fd);
  return true;
}

}  // namespace tftp
