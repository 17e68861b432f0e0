#include "tftp/path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

Refusal Refuse(ErrorCode code, std::string reason) {
  return {code, std::move(reason)};
}

}  // namespace

bool NormalizeName(absl::string_view name, Normalized* out, Refusal* why) {
  if (name.empty()) {
    *why = Refuse(ErrorCode::kAccessViolation, "empty file name");
    return false;
  }
  if (name.size() > kMaxNameLength) {
    *why = Refuse(ErrorCode::kAccessViolation, "file name too long");
    return false;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      *why = Refuse(ErrorCode::kAccessViolation, "control byte in file name");
      return false;
    }
  }
  if (!IsValidUtf8(name)) {
    *why = Refuse(ErrorCode::kAccessViolation, "file name is not UTF-8");
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
      *why = Refuse(ErrorCode::kAccessViolation, "'..' in file name");
      return false;
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    *why = Refuse(ErrorCode::kAccessViolation, "no file in the name");
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
  for (const std::string& dir : allow_) {
    if (dir == "/") return true;
    if (real.size() > dir.size() && real.compare(0, dir.size(), dir) == 0 &&
        real[dir.size()] == '/') {
      return true;
    }
  }
  return false;
}

bool PathPolicy::Resolve(absl::string_view name, std::string* path,
                         Refusal* why) const {
  Normalized n;
  if (!NormalizeName(name, &n, why)) return false;
  std::string candidate = absl::StrCat(root_, "/", n.relative);
  char buf[PATH_MAX];
  if (realpath(candidate.c_str(), buf) == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) {
      *why = Refuse(ErrorCode::kNotFound, "file not found");
    } else {
      *why = Refuse(ErrorCode::kAccessViolation, "cannot open file");
    }
    return false;
  }
  std::string real = buf;
  if (!Allowed(real)) {
    *why = Refuse(ErrorCode::kAccessViolation, "outside the tftp root");
    return false;
  }
  struct stat st;
  if (stat(real.c_str(), &st) != 0) {
    *why = Refuse(ErrorCode::kNotFound, "file not found");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *why = Refuse(ErrorCode::kAccessViolation, "not a regular file");
    return false;
  }
  *path = std::move(real);
  return true;
}

}  // namespace tftp
