// netascii (RFC 1350, RFC 764: LF -> CR LF, CR -> CR NUL) converted one
// block at a time as the data is sent, never the whole file at once: a
// request for a large file costs one block of work per DATA packet, like an
// octet transfer, and no copy of the file.
//
// The converted text is longer than the file, so block N starts at a source
// offset only the conversion of blocks 1..N-1 tells. A transfer keeps that
// cursor for each block of its unacknowledged window (a retransmission needs
// them again) and forgets those the client has acknowledged: at most
// windowsize + 1 cursors.
#ifndef PXEPROXY_TFTP_NETASCII_H_
#define PXEPROXY_TFTP_NETASCII_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/types/span.h"

namespace tftp {

struct NetasciiCursor {
  uint64_t src = 0;  // next source byte to convert
  // The second byte of a pair (LF of CR LF, NUL of CR NUL) that did not fit
  // in the previous block, or -1.
  int pending = -1;
  bool operator==(const NetasciiCursor&) const = default;
};

// Appends to `out` the conversion from `at`, at most `room` bytes. `src`
// holds the source bytes from at.src on (as many as are left in the file, or
// at least `room`). Returns the cursor after the last byte written.
NetasciiCursor EncodeNetascii(NetasciiCursor at, absl::Span<const uint8_t> src,
                              size_t room, std::string* out);

// The start cursor of each block of a transfer's unacknowledged window.
class NetasciiBlocks {
 public:
  NetasciiBlocks() { starts_[1] = NetasciiCursor{}; }
  // Where block `block` starts, if it is in the window (or the next one).
  std::optional<NetasciiCursor> Start(uint64_t block) const;
  void SetStart(uint64_t block, NetasciiCursor at) { starts_[block] = at; }
  // The client acknowledged `block`: earlier cursors are never needed again.
  void Acked(uint64_t block);
  size_t size() const { return starts_.size(); }

 private:
  std::map<uint64_t, NetasciiCursor> starts_;
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_NETASCII_H_
