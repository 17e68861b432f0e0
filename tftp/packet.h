// TFTP packet codec (RFC 1350, options per RFC 2347). Parsing takes untrusted
// bytes and returns owned values; building returns owned bytes.
#ifndef PXEPROXY_TFTP_PACKET_H_
#define PXEPROXY_TFTP_PACKET_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tftp {

enum class Opcode : uint16_t {
  kRrq = 1,
  kWrq = 2,
  kData = 3,
  kAck = 4,
  kError = 5,
  kOack = 6,  // RFC 2347
};

// RFC 1350 section 5 error codes, plus 8 from RFC 2347.
enum class ErrorCode : uint16_t {
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

enum class Mode { kOctet, kNetascii };

// An RRQ or WRQ. Option names are lower-cased (RFC 2347: case-insensitive);
// values are kept as sent, in order.
struct Request {
  Opcode opcode = Opcode::kRrq;
  std::string filename;
  std::string mode;  // lower-cased
  std::vector<std::pair<std::string, std::string>> options;
};

struct Ack {
  uint16_t block = 0;
};

struct ErrorPacket {
  uint16_t code = 0;
  std::string message;
};

// The opcode of a packet, or an error when shorter than two bytes.
absl::StatusOr<Opcode> PeekOpcode(absl::Span<const uint8_t> packet);
absl::StatusOr<Request> ParseRequest(absl::Span<const uint8_t> packet);
absl::StatusOr<Ack> ParseAck(absl::Span<const uint8_t> packet);
absl::StatusOr<ErrorPacket> ParseError(absl::Span<const uint8_t> packet);

// "octet" and "netascii" (any case) set *out; "mail" and the rest: false.
bool ParseMode(absl::string_view mode, Mode* out);

std::vector<uint8_t> BuildError(ErrorCode code, absl::string_view message);
std::vector<uint8_t> BuildOack(
    const std::vector<std::pair<std::string, std::string>>& options);
std::vector<uint8_t> BuildAck(uint16_t block);
// The four header bytes of a DATA packet; the payload follows separately so
// the server can point an iovec at the cached file instead of copying it.
std::array<uint8_t, 4> DataHeader(uint16_t block);
std::vector<uint8_t> BuildData(uint16_t block, absl::Span<const uint8_t> data);

// LF -> CR LF and CR -> CR NUL (RFC 764, as RFC 1350 asks for netascii).
std::string ToNetascii(absl::string_view text);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_PACKET_H_
