#include "tftp/file_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace tftp {
namespace {

class OwnedData : public FileData {
 public:
  explicit OwnedData(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::Span<const uint8_t> bytes() const override {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }

 private:
  std::string bytes_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::shared_ptr<const FileData> MakeFileData(std::string bytes) {
  return std::make_shared<OwnedData>(std::move(bytes));
}

absl::StatusOr<std::shared_ptr<const FileData>> FileCache::Get(
    const std::string& path) {
  // O_NONBLOCK: a FIFO swapped in after Resolve must not hang the loop.
  Fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": not a regular file"));
  }
  Key key{st.st_dev, st.st_ino, st.st_size,
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  auto it = entries_.find(path);
  if (it != entries_.end() && it->second.key == key) {
    ++stats_.hits;
    return it->second.data;
  }
  // Read, not mmap: `cp new.efi root/` truncates the file in place, and a
  // mapping would then fault (SIGBUS) under the transfers reading it.
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(fd.get(), bytes.data() + done, bytes.size() - done, done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(absl::StrCat(
          "read ", path, ": ", n < 0 ? strerror(errno) : "file shrank"));
    }
    done += n;
  }
  std::shared_ptr<const FileData> data = MakeFileData(std::move(bytes));
  if (it != entries_.end()) {
    stats_.bytes_cached -= it->second.data->bytes().size();
  }
  entries_[path] = Entry{key, data};
  stats_.bytes_cached += st.st_size;
  ++stats_.loads;
  Trim();
  return data;
}

void FileCache::Trim() {
  for (auto it = entries_.begin();
       stats_.bytes_cached > max_bytes_ && it != entries_.end();) {
    if (it->second.data.use_count() == 1) {
      stats_.bytes_cached -= it->second.data->bytes().size();
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace tftp
