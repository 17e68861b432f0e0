#include "tftp/file_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "wire/status_macros.h"

namespace tftp {
namespace {

class OwnedData : public FileData {
 public:
  explicit OwnedData(std::string bytes,
                     std::shared_ptr<uint64_t> live_bytes = nullptr)
      : bytes_(std::move(bytes)), live_bytes_(std::move(live_bytes)) {
    if (live_bytes_) *live_bytes_ += bytes_.size();
  }
  ~OwnedData() override {
    if (live_bytes_) *live_bytes_ -= bytes_.size();
  }
  uint64_t size() const override { return bytes_.size(); }
  bool in_memory() const override { return true; }
  absl::Span<const uint8_t> bytes() const override {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }
  absl::StatusOr<absl::Span<const uint8_t>> Read(
      uint64_t offset, size_t length,
      std::vector<uint8_t>* /*scratch*/) const override {
    return bytes().subspan(offset, length);
  }

 private:
  std::string bytes_;
  std::shared_ptr<uint64_t> live_bytes_;  // the cache's accounting, if any
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

FileCache::Key KeyOf(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size,
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

// Reads exactly `length` bytes at `offset`; a short read means the file
// shrank under us.
absl::Status ReadAt(int fd, uint64_t offset, size_t length, uint8_t* out,
                    const std::string& path) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, out + done, length - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(absl::StrCat(
          "read ", path, ": ", n < 0 ? strerror(errno) : "file shrank"));
    }
    done += n;
  }
  return absl::OkStatus();
}

// A file over the cache's cap, read one window at a time from the descriptor
// opened at RRQ time: a file renamed over it does not change what this
// transfer sends, and one rewritten in place ends it rather than mixing.
class StreamedFile : public FileData {
 public:
  StreamedFile(Fd fd, FileCache::Key key, std::string path)
      : fd_(std::move(fd)), key_(key), path_(std::move(path)) {}
  uint64_t size() const override { return key_.size; }
  bool in_memory() const override { return false; }
  absl::Span<const uint8_t> bytes() const override { return {}; }
  absl::StatusOr<absl::Span<const uint8_t>> Read(
      uint64_t offset, size_t length,
      std::vector<uint8_t>* scratch) const override {
    struct stat st;
    if (fstat(fd_.get(), &st) != 0 || !(KeyOf(st) == key_)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, ": changed during the transfer"));
    }
    scratch->resize(length);
    RETURN_IF_ERROR(ReadAt(fd_.get(), offset, length, scratch->data(), path_));
    return absl::Span<const uint8_t>(scratch->data(), length);
  }

 private:
  Fd fd_;
  FileCache::Key key_;
  std::string path_;
};

}  // namespace

std::shared_ptr<const FileData> MakeFileData(std::string bytes) {
  return std::make_shared<OwnedData>(std::move(bytes));
}

FileCache::FileCache(uint64_t max_bytes, uint64_t max_file_bytes)
    : max_bytes_(max_bytes), max_file_bytes_(max_file_bytes) {}

FileCacheStats FileCache::stats() const {
  FileCacheStats s = stats_;
  s.bytes_in_memory = *live_bytes_;
  return s;
}

absl::StatusOr<std::shared_ptr<const FileData>> FileCache::Get(
    const std::string& path) {
  // O_NONBLOCK: a FIFO swapped in after Resolve must not hang the loop.
  int raw = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (raw < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("open ", path, ": ", strerror(errno)));
  }
  return Get(raw, path);
}

absl::StatusOr<std::shared_ptr<const FileData>> FileCache::Get(
    int raw, const std::string& path) {
  Fd fd(raw);
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": not a regular file"));
  }
  Key key = KeyOf(st);
  std::pair<dev_t, ino_t> id(st.st_dev, st.st_ino);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.key == key) {
    ++stats_.hits;
    return it->second.data;
  }
  // A stale version leaves the cache; transfers holding it keep it.
  if (it != entries_.end()) entries_.erase(it);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size <= max_file_bytes_) MakeRoom(size);
  if (size > max_file_bytes_ || *live_bytes_ + size > max_bytes_) {
    ++stats_.streamed;
    return std::make_shared<StreamedFile>(std::move(fd), key, path);
  }
  // Read, not mmap: `cp new.efi root/` truncates the file in place, and a
  // mapping would then fault (SIGBUS) under the transfers reading it.
  std::string bytes(size, '\0');
  RETURN_IF_ERROR(ReadAt(fd.get(), 0, size,
                         reinterpret_cast<uint8_t*>(bytes.data()), path));
  std::shared_ptr<const FileData> data =
      std::make_shared<OwnedData>(std::move(bytes), live_bytes_);
  entries_[id] = Entry{key, data};
  ++stats_.loads;
  return data;
}

void FileCache::MakeRoom(uint64_t incoming) {
  for (auto it = entries_.begin();
       *live_bytes_ + incoming > max_bytes_ && it != entries_.end();) {
    if (it->second.data.use_count() == 1) {
      it = entries_.erase(it);  // its destructor gives the bytes back
    } else {
      ++it;
    }
  }
}

}  // namespace tftp
