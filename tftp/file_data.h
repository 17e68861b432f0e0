// The bytes of a file being served, whichever way they are held: in memory
// (cached files, virtual files) or read per window from a descriptor (files
// too large to cache). An interface, so the pure core can take one from a
// lookup without knowing about descriptors or the cache.
#ifndef PXEPROXY_TFTP_FILE_DATA_H_
#define PXEPROXY_TFTP_FILE_DATA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tftp {

class FileData {
 public:
  virtual ~FileData() = default;
  virtual uint64_t size() const = 0;
  // False for a file read per window; bytes() is then empty.
  virtual bool in_memory() const = 0;
  virtual absl::Span<const uint8_t> bytes() const = 0;
  // Bytes [offset, offset + length) within size(): a view of the memory, or
  // read into `scratch` and valid until it changes. Fails if a file read per
  // window shrank or was rewritten since it was opened (a mix of two
  // versions would not boot; the client's next RRQ gets the new one).
  virtual absl::StatusOr<absl::Span<const uint8_t>> Read(
      uint64_t offset, size_t length, std::vector<uint8_t>* scratch) const = 0;
};

// Owned bytes (virtual files).
std::shared_ptr<const FileData> MakeFileData(std::string bytes);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_FILE_DATA_H_
