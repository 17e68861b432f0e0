// Files read once into memory and shared by every transfer of a boot storm. An
// entry is reused while the file's device, inode, size and mtime are unchanged;
// otherwise the file is read again and transfers already running keep the
// old bytes (they hold a reference), so nobody gets a mix of two versions.
#ifndef PXEPROXY_TFTP_FILE_CACHE_H_
#define PXEPROXY_TFTP_FILE_CACHE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tftp {

class FileData {
 public:
  virtual ~FileData() = default;
  virtual absl::Span<const uint8_t> bytes() const = 0;
};

// Owned bytes (virtual files, netascii conversions).
std::shared_ptr<const FileData> MakeFileData(std::string bytes);

struct FileCacheStats {
  uint64_t hits = 0;
  uint64_t loads = 0;
  uint64_t bytes_cached = 0;
};

class FileCache {
 public:
  // Entries no transfer holds are dropped once the cache exceeds this.
  explicit FileCache(uint64_t max_bytes = 512ull << 20)
      : max_bytes_(max_bytes) {}

  // `path` is canonical (PathPolicy::Resolve). Opens without following a
  // final symlink, checks it is still a regular file, then hits or loads.
  absl::StatusOr<std::shared_ptr<const FileData>> Get(const std::string& path);
  const FileCacheStats& stats() const { return stats_; }

 private:
  struct Key {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    Key key;
    std::shared_ptr<const FileData> data;
  };
  void Trim();

  uint64_t max_bytes_;
  std::map<std::string, Entry> entries_;
  FileCacheStats stats_;
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_FILE_CACHE_H_
