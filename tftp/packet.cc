#include "tftp/packet.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "wire/byte_reader.h"

namespace tftp {
namespace {

// RFC 1350 requests are strings "terminated by a zero byte". A string that
// runs to the end of the packet without its NUL is malformed: some broken
// clients do send that, but accepting it would guess at a truncated name.
bool ReadCString(wire::ByteReader& r, std::string* out) {
  absl::Span<const uint8_t> rest = r.Rest();
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == 0) {
      out->assign(reinterpret_cast<const char*>(rest.data()), i);
      return r.Skip(i + 1);
    }
  }
  return false;
}

void AppendU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

void AppendCString(std::vector<uint8_t>& out, absl::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

}  // namespace

absl::StatusOr<Opcode> PeekOpcode(absl::Span<const uint8_t> packet) {
  wire::ByteReader r(packet);
  uint16_t op;
  if (!r.ReadU16(&op)) {
    return absl::InvalidArgumentError(
        absl::StrCat("packet of ", packet.size(), " bytes has no opcode"));
  }
  if (op < 1 || op > 6) {
    return absl::InvalidArgumentError(absl::StrCat("unknown opcode ", op));
  }
  return static_cast<Opcode>(op);
}

absl::StatusOr<Request> ParseRequest(absl::Span<const uint8_t> packet) {
  wire::ByteReader r(packet);
  uint16_t op;
  Request req;
  if (!r.ReadU16(&op) || (op != 1 && op != 2)) {
    return absl::InvalidArgumentError("not an RRQ or WRQ");
  }
  req.opcode = static_cast<Opcode>(op);
  if (!ReadCString(r, &req.filename)) {
    return absl::InvalidArgumentError("filename: no terminating NUL");
  }
  if (!ReadCString(r, &req.mode)) {
    return absl::InvalidArgumentError("mode: no terminating NUL");
  }
  req.mode = absl::AsciiStrToLower(req.mode);
  // RFC 2347: name/value pairs follow the mode. Some PXE ROMs pad the request
  // with trailing NULs (seen from Intel boot agents), so a run of zero bytes
  // at the end is tolerated; a name without its value is not.
  while (r.remaining() > 0) {
    if (r.Rest()[0] == 0) {
      r.Skip(1);
      continue;
    }
    std::string name, value;
    if (!ReadCString(r, &name) || !ReadCString(r, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("option at byte ", r.pos(),
                                                     ": name or value not "
                                                     "terminated"));
    }
    req.options.emplace_back(absl::AsciiStrToLower(name), std::move(value));
  }
  return req;
}

absl::StatusOr<Ack> ParseAck(absl::Span<const uint8_t> packet) {
  wire::ByteReader r(packet);
  uint16_t op;
  Ack ack;
  // Trailing bytes after the block number are ignored: RFC 1350 ACKs are 4
  // bytes, but some ROMs pad short frames.
  if (!r.ReadU16(&op) || op != 4 || !r.ReadU16(&ack.block)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ACK: want 4 bytes, got ", packet.size()));
  }
  return ack;
}

absl::StatusOr<ErrorPacket> ParseError(absl::Span<const uint8_t> packet) {
  wire::ByteReader r(packet);
  uint16_t op;
  ErrorPacket e;
  if (!r.ReadU16(&op) || op != 5 || !r.ReadU16(&e.code)) {
    return absl::InvalidArgumentError("ERROR: shorter than 4 bytes");
  }
  // The message is informational; take it whole even without its NUL.
  absl::Span<const uint8_t> rest = r.Rest();
  size_t n = 0;
  while (n < rest.size() && rest[n] != 0) ++n;
  e.message.assign(reinterpret_cast<const char*>(rest.data()), n);
  return e;
}

bool ParseMode(absl::string_view mode, Mode* out) {
  std::string m = absl::AsciiStrToLower(mode);
  if (m == "octet") {
    *out = Mode::kOctet;
    return true;
  }
  if (m == "netascii") {
    *out = Mode::kNetascii;
    return true;
  }
  return false;
}

std::vector<uint8_t> BuildError(ErrorCode code, absl::string_view message) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(Opcode::kError));
  AppendU16(out, static_cast<uint16_t>(code));
  AppendCString(out, message);
  return out;
}

std::vector<uint8_t> BuildOack(
    const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(Opcode::kOack));
  for (const auto& [name, value] : options) {
    AppendCString(out, name);
    AppendCString(out, value);
  }
  return out;
}

std::vector<uint8_t> BuildAck(uint16_t block) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(Opcode::kAck));
  AppendU16(out, block);
  return out;
}

std::array<uint8_t, 4> DataHeader(uint16_t block) {
  return {0, static_cast<uint8_t>(Opcode::kData),
          static_cast<uint8_t>(block >> 8), static_cast<uint8_t>(block & 0xff)};
}

std::vector<uint8_t> BuildData(uint16_t block, absl::Span<const uint8_t> data) {
  std::array<uint8_t, 4> h = DataHeader(block);
  std::vector<uint8_t> out(h.size() + data.size());
  std::copy(h.begin(), h.end(), out.begin());
  std::copy(data.begin(), data.end(), out.begin() + h.size());
  return out;
}

std::string ToNetascii(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n') {
      out += "\r\n";
    } else if (c == '\r') {
      out.push_back('\r');
      out.push_back('\0');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tftp
