// RFC 2347 option negotiation for a read request: which of the client's
// options we accept, with what values, and the OACK that lists exactly those.
// Pure: limits and the file size come in as values.
#ifndef PXEPROXY_TFTP_OPTIONS_H_
#define PXEPROXY_TFTP_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tftp {

constexpr int kDefaultBlksize = 512;   // RFC 1350
constexpr int kMinBlksize = 8;         // RFC 2348
constexpr int kMaxBlksize = 65464;     // RFC 2348
constexpr int kMaxWindowsize = 65535;  // RFC 7440

struct NegotiationLimits {
  int max_blksize = kMaxBlksize;  // already clamped to the interface MTU - 32
  int max_windowsize = 64;
  int default_timeout_ms = 1000;
};

struct Negotiated {
  int blksize = kDefaultBlksize;
  int windowsize = 1;
  int timeout_ms = 1000;
  // The accepted options in the order the client sent them; empty means no
  // OACK: DATA 1 goes out directly (RFC 2347).
  std::vector<std::pair<std::string, std::string>> oack;
};

// Options must be lower-cased (wire::ParseTftpRequest does it). Returns
// InvalidArgument with a short text for the client's ERROR 8 when a value is
// malformed or below what the RFC allows; values above our limits are lowered
// (RFC 2348: the server may answer a smaller blksize). Unknown options are
// ignored, as RFC 2347 asks, and so are repeats of an option already seen.
// With no `transfer_size` (netascii: only the conversion knows it), tsize is
// left out of the OACK, which RFC 2349 allows.
absl::StatusOr<Negotiated> Negotiate(
    const std::vector<std::pair<std::string, std::string>>& options,
    std::optional<uint64_t> transfer_size, const NegotiationLimits& limits);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_OPTIONS_H_
