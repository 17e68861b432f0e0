// Files read once into memory and shared by every transfer of a boot storm. An
// entry is reused while the file's device, inode, size and mtime are unchanged;
// otherwise the file is read again and transfers already running keep the
// old bytes (they hold a reference), so nobody gets a mix of two versions.
//
// Files larger than a cap (ISOs, big initrds) are never loaded: reading one
// whole would stall every transfer on the event loop, and enough of them
// would exhaust memory. Each transfer of such a file holds its own descriptor,
// opened and checked at RRQ time, and reads one window at a time with pread().
#ifndef PXEPROXY_TFTP_FILE_CACHE_H_
#define PXEPROXY_TFTP_FILE_CACHE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tftp/file_data.h"

namespace tftp {

struct FileCacheStats {
  uint64_t hits = 0;
  uint64_t loads = 0;
  uint64_t streamed = 0;  // opened for reading per window
  // Loaded bytes still in memory: in the cache or held by a transfer.
  uint64_t bytes_in_memory = 0;
};

class FileCache {
 public:
  // Files over `max_file_bytes` are read per window. Loaded files, cached or
  // held by transfers, take at most `max_bytes` in all: entries no transfer
  // holds are dropped to make room, and when that is not enough the file is
  // read per window too.
  static constexpr uint64_t kMaxBytes = 512ull << 20;
  static constexpr uint64_t kMaxFileBytes = 64ull << 20;
  explicit FileCache(uint64_t max_bytes = kMaxBytes,
                     uint64_t max_file_bytes = kMaxFileBytes);

  // `path` is canonical (PathPolicy::Resolve). Opens without following a
  // final symlink, checks it is still a regular file, then hits or loads.
  absl::StatusOr<std::shared_ptr<const FileData>> Get(const std::string& path);
  // The same for a descriptor already opened (PathPolicy::Open), which the
  // cache takes over; `path` names it in errors. Entries are keyed by device
  // and inode, so a file reached by two names is loaded once.
  absl::StatusOr<std::shared_ptr<const FileData>> Get(int fd,
                                                      const std::string& path);
  FileCacheStats stats() const;

  struct Key {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    bool operator==(const Key&) const = default;
  };

 private:
  struct Entry {
    Key key;
    std::shared_ptr<const FileData> data;
  };
  // Drops entries no transfer holds until `incoming` more bytes fit.
  void MakeRoom(uint64_t incoming);

  uint64_t max_bytes_;
  uint64_t max_file_bytes_;
  std::map<std::pair<dev_t, ino_t>, Entry> entries_;
  // Shared with every loaded FileData, which gives its bytes back when the
  // last transfer holding it ends.
  std::shared_ptr<uint64_t> live_bytes_ = std::make_shared<uint64_t>(0);
  FileCacheStats stats_;
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_FILE_CACHE_H_
