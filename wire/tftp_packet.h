// TFTP packet codec (RFC 1350, options per RFC 2347). Parsing takes untrusted
// bytes and returns owned values; building returns owned bytes. The server
// parses what it must answer (ParseTftpRequest, ParseTftpAck); an observer of
// both sides, the diagnose mode, parses any packet (ParseTftpPacket).
#ifndef PXEPROXY_WIRE_TFTP_PACKET_H_
#define PXEPROXY_WIRE_TFTP_PACKET_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace wire {

enum class TftpOpcode : uint16_t {
  kRrq = 1,
  kWrq = 2,
  kData = 3,
  kAck = 4,
  kError = 5,
  kOack = 6,  // RFC 2347
};

// RFC 1350 section 5 error codes, plus 8 from RFC 2347.
enum class TftpErrorCode : uint16_t {
  kNotDefined = 0,
  kNotFound = 1,
  kAccessViolation = 2,
  kDiskFull = 3,
  kIllegalOperation = 4,
  kUnknownTid = 5,
  kFileExists = 6,
  kNoSuchUser = 7,
  kBadOptions = 8,
};

enum class TftpMode { kOctet, kNetascii };

// RFC 2347 name/value pairs, in the order sent.
using TftpOptions = std::vector<std::pair<std::string, std::string>>;

// An RRQ or WRQ. Option names are lower-cased (RFC 2347: case-insensitive);
// values are kept as sent, in order.
struct TftpRequest {
  TftpOpcode opcode = TftpOpcode::kRrq;
  std::string filename;
  std::string mode;  // lower-cased
  TftpOptions options;
};

struct TftpAck {
  uint16_t block = 0;
};

struct TftpErrorPacket {
  uint16_t code = 0;
  std::string message;
};

// The opcode of a packet, or an error when shorter than two bytes.
absl::StatusOr<TftpOpcode> PeekTftpOpcode(absl::Span<const uint8_t> packet);
absl::StatusOr<TftpRequest> ParseTftpRequest(absl::Span<const uint8_t> packet);
absl::StatusOr<TftpAck> ParseTftpAck(absl::Span<const uint8_t> packet);
absl::StatusOr<TftpErrorPacket> ParseTftpError(
    absl::Span<const uint8_t> packet);

// "octet" and "netascii" (any case) set *out; "mail" and the rest: false.
bool ParseTftpMode(absl::string_view mode, TftpMode* out);

// Any TFTP packet as an observer sees it: names, modes and options as sent.
struct TftpPacket {
  TftpOpcode op = TftpOpcode::kRrq;
  std::string filename;  // RRQ/WRQ, up to its NUL
  std::string mode;
  TftpOptions options;      // RRQ, OACK
  uint16_t block = 0;       // DATA, ACK
  size_t data_size = 0;     // DATA
  uint16_t error_code = 0;  // ERROR
  std::string error_message;
};

// `wire_length` is the payload's real length (DATA size when a capture's
// snap length cut it). Liberal where a request's option area is damaged (the
// request is still readable), strict for an OACK.
absl::StatusOr<TftpPacket> ParseTftpPacket(absl::Span<const uint8_t> payload,
                                           size_t wire_length);
// The value of option `name` (case-insensitive), or nullopt.
std::optional<std::string> TftpOption(const TftpPacket& p,
                                      absl::string_view name);

std::vector<uint8_t> BuildTftpError(TftpErrorCode code,
                                    absl::string_view message);
std::vector<uint8_t> BuildTftpOack(const TftpOptions& options);
std::vector<uint8_t> BuildTftpAck(uint16_t block);
// The four header bytes of a DATA packet; the payload follows separately so
// the server can point an iovec at the cached file instead of copying it.
std::array<uint8_t, 4> TftpDataHeader(uint16_t block);
std::vector<uint8_t> BuildTftpData(uint16_t block,
                                   absl::Span<const uint8_t> data);

// LF -> CR LF and CR -> CR NUL (RFC 764, as RFC 1350 asks for netascii).
std::string ToNetascii(absl::string_view text);

}  // namespace wire

#endif  // PXEPROXY_WIRE_TFTP_PACKET_H_
