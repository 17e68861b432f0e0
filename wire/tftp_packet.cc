#include "wire/tftp_packet.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "wire/byte_reader.h"

namespace wire {
namespace {

// RFC 1350 requests are strings "terminated by a zero byte". A string that
// runs to the end of the packet without its NUL is malformed: some broken
// clients do send that, but accepting it would guess at a truncated name.
bool ReadCString(ByteReader& r, std::string* out) {
  absl::Span<const uint8_t> rest = r.Rest();
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == 0) {
      out->assign(reinterpret_cast<const char*>(rest.data()), i);
      return r.Skip(i + 1);
    }
  }
  return false;
}

// RFC 2347: name/value pairs to the end of the packet, names as sent. Some
// PXE ROMs pad the request with trailing NULs (seen from Intel boot agents),
// so a run of zero bytes is tolerated; a name without its value is not.
absl::Status ReadOptions(ByteReader& r, TftpOptions* out) {
  while (r.remaining() > 0) {
    if (r.Rest()[0] == 0) {
      r.Skip(1);
      continue;
    }
    std::string name, value;
    if (!ReadCString(r, &name) || !ReadCString(r, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "option at byte ", r.pos(), ": name or value not terminated"));
    }
    out->emplace_back(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

// An ERROR's message is informational: taken whole even without its NUL.
std::string ReadMessage(ByteReader& r) {
  absl::Span<const uint8_t> rest = r.Rest();
  return std::string(rest.begin(), std::find(rest.begin(), rest.end(), 0));
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

absl::StatusOr<TftpOpcode> PeekTftpOpcode(absl::Span<const uint8_t> packet) {
  ByteReader r(packet);
  uint16_t op;
  if (!r.ReadU16(&op)) {
    return absl::InvalidArgumentError(
        absl::StrCat("packet of ", packet.size(), " bytes has no opcode"));
  }
  if (op < 1 || op > 6) {
    return absl::InvalidArgumentError(absl::StrCat("unknown opcode ", op));
  }
  return static_cast<TftpOpcode>(op);
}

absl::StatusOr<TftpRequest> ParseTftpRequest(absl::Span<const uint8_t> packet) {
  ByteReader r(packet);
  uint16_t op;
  TftpRequest req;
  if (!r.ReadU16(&op) || (op != 1 && op != 2)) {
    return absl::InvalidArgumentError("not an RRQ or WRQ");
  }
  req.opcode = static_cast<TftpOpcode>(op);
  if (!ReadCString(r, &req.filename)) {
    return absl::InvalidArgumentError("filename: no terminating NUL");
  }
  if (!ReadCString(r, &req.mode)) {
    return absl::InvalidArgumentError("mode: no terminating NUL");
  }
  req.mode = absl::AsciiStrToLower(req.mode);
  absl::Status s = ReadOptions(r, &req.options);
  if (!s.ok()) return s;
  for (auto& [name, value] : req.options) name = absl::AsciiStrToLower(name);
  return req;
}

absl::StatusOr<TftpAck> ParseTftpAck(absl::Span<const uint8_t> packet) {
  ByteReader r(packet);
  uint16_t op;
  TftpAck ack;
  // Trailing bytes after the block number are ignored: RFC 1350 ACKs are 4
  // bytes, but some ROMs pad short frames.
  if (!r.ReadU16(&op) || op != 4 || !r.ReadU16(&ack.block)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ACK: want 4 bytes, got ", packet.size()));
  }
  return ack;
}

absl::StatusOr<TftpErrorPacket> ParseTftpError(
    absl::Span<const uint8_t> packet) {
  ByteReader r(packet);
  uint16_t op;
  TftpErrorPacket e;
  if (!r.ReadU16(&op) || op != 5 || !r.ReadU16(&e.code)) {
    return absl::InvalidArgumentError("ERROR: shorter than 4 bytes");
  }
  e.message = ReadMessage(r);
  return e;
}

bool ParseTftpMode(absl::string_view mode, TftpMode* out) {
  std::string m = absl::AsciiStrToLower(mode);
  if (m == "octet") {
    *out = TftpMode::kOctet;
    return true;
  }
  if (m == "netascii") {
    *out = TftpMode::kNetascii;
    return true;
  }
  return false;
}

absl::StatusOr<TftpPacket> ParseTftpPacket(absl::Span<const uint8_t> payload,
                                           size_t wire_length) {
  ByteReader r(payload);
  TftpPacket p;
  uint16_t op = 0;
  if (!r.ReadU16(&op) || op < 1 || op > 6) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tftp: opcode %d (want 1..6)", op));
  }
  p.op = static_cast<TftpOpcode>(op);
  switch (p.op) {
    case TftpOpcode::kRrq:
    case TftpOpcode::kWrq:
      if (!ReadCString(r, &p.filename) || !ReadCString(r, &p.mode)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "tftp: request of %d bytes without NUL-terminated filename and "
            "mode",
            payload.size()));
      }
      // Liberal: a damaged option area still leaves a readable request.
      ReadOptions(r, &p.options).IgnoreError();
      return p;
    case TftpOpcode::kOack: {
      absl::Status s = ReadOptions(r, &p.options);
      if (!s.ok()) return s;
      return p;
    }
    case TftpOpcode::kData:
    case TftpOpcode::kAck:
      if (!r.ReadU16(&p.block)) {
        return absl::InvalidArgumentError("tftp: no block number");
      }
      p.data_size = wire_length >= 4 ? wire_length - 4 : 0;
      return p;
    case TftpOpcode::kError:
      break;
  }
  if (!r.ReadU16(&p.error_code)) {
    return absl::InvalidArgumentError("tftp: ERROR without a code");
  }
  p.error_message = ReadMessage(r);
  return p;
}

std::optional<std::string> TftpOption(const TftpPacket& p,
                                      absl::string_view name) {
  for (const auto& [k, v] : p.options) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::vector<uint8_t> BuildTftpError(TftpErrorCode code,
                                    absl::string_view message) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(TftpOpcode::kError));
  AppendU16(out, static_cast<uint16_t>(code));
  AppendCString(out, message);
  return out;
}

std::vector<uint8_t> BuildTftpOack(const TftpOptions& options) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(TftpOpcode::kOack));
  for (const auto& [name, value] : options) {
    AppendCString(out, name);
    AppendCString(out, value);
  }
  return out;
}

std::vector<uint8_t> BuildTftpAck(uint16_t block) {
  std::vector<uint8_t> out;
  AppendU16(out, static_cast<uint16_t>(TftpOpcode::kAck));
  AppendU16(out, block);
  return out;
}

std::array<uint8_t, 4> TftpDataHeader(uint16_t block) {
  return {0, static_cast<uint8_t>(TftpOpcode::kData),
          static_cast<uint8_t>(block >> 8), static_cast<uint8_t>(block & 0xff)};
}

std::vector<uint8_t> BuildTftpData(uint16_t block,
                                   absl::Span<const uint8_t> data) {
  std::array<uint8_t, 4> h = TftpDataHeader(block);
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

}  // namespace wire
