#include "tftp/netascii.h"

namespace tftp {

NetasciiCursor EncodeNetascii(NetasciiCursor at, absl::Span<const uint8_t> src,
                              size_t room, std::string* out) {
  size_t used = 0;
  if (at.pending >= 0 && used < room) {
    out->push_back(static_cast<char>(at.pending));
    at.pending = -1;
    ++used;
  }
  size_t i = 0;
  while (used < room && i < src.size()) {
    uint8_t c = src[i++];
    ++at.src;
    if (c == '\n' || c == '\r') {
      out->push_back('\r');
      ++used;
      // CR LF for a newline, CR NUL for a bare CR (RFC 764 via RFC 1350).
      const uint8_t second = c == '\n' ? uint8_t{'\n'} : uint8_t{0};
      if (used < room) {
        out->push_back(static_cast<char>(second));
        ++used;
      } else {
        at.pending = second;
      }
    } else {
      out->push_back(static_cast<char>(c));
      ++used;
    }
  }
  return at;
}

std::optional<NetasciiCursor> NetasciiBlocks::Start(uint64_t block) const {
  auto it = starts_.find(block);
  if (it == starts_.end()) return std::nullopt;
  return it->second;
}

void NetasciiBlocks::Acked(uint64_t block) {
  starts_.erase(starts_.begin(), starts_.lower_bound(block + 1));
}

}  // namespace tftp
