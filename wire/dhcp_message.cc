#include "wire/dhcp_message.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "wire/byte_reader.h"

namespace wire {
namespace {

constexpr uint8_t kMagicCookie[4] = {99, 130, 83, 99};
constexpr size_t kSnameSize = 64;
constexpr size_t kFileSize = 128;

// Walks one option area (RFC 2132 section 2), appending to `out` so that
// repeated codes concatenate (RFC 3396).
absl::Status ParseOptionArea(absl::Span<const uint8_t> area,
                             absl::string_view where, DhcpOptions* out) {
  ByteReader r(area);
  while (r.remaining() > 0) {
    uint8_t code;
    r.ReadU8(&code);
    if (code == kOptPad) continue;
    if (code == kOptEnd) return absl::OkStatus();
    uint8_t len;
    if (!r.ReadU8(&len)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: option %d has no length byte", where, code));
    }
    absl::Span<const uint8_t> value;
    if (!r.ReadBytes(len, &value)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: option %d: length %d, only %d bytes left", where,
                          code, len, r.remaining()));
    }
    out->Append(code, value);
  }
  return absl::OkStatus();  // no END: accepted (liberal on meaning)
}

std::string CString(absl::Span<const uint8_t> field) {
  auto end = std::find(field.begin(), field.end(), 0);
  return std::string(field.begin(), end);
}

void PutU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}
void PutField(std::vector<uint8_t>& out, const std::string& s, size_t size) {
  size_t n = std::min(s.size(), size - 1);  // always NUL-terminated
  out.insert(out.end(), s.begin(), s.begin() + n);
  out.insert(out.end(), size - n, 0);
}
void PutOption(std::vector<uint8_t>& out, uint8_t code,
               const std::vector<uint8_t>& value) {
  if (value.empty()) {
    out.push_back(code);
    out.push_back(0);
    return;
  }
  for (size_t at = 0; at < value.size(); at += 255) {
    size_t n = std::min<size_t>(255, value.size() - at);
    out.push_back(code);
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), value.begin() + at, value.begin() + at + n);
  }
}

}  // namespace

const char* MessageTypeName(uint8_t type) {
  switch (type) {
    case kDiscover:
      return "DISCOVER";
    case kOffer:
      return "OFFER";
    case kRequest:
      return "REQUEST";
    case kDecline:
      return "DECLINE";
    case kAck:
      return "ACK";
    case kNak:
      return "NAK";
    case kRelease:
      return "RELEASE";
    case kInform:
      return "INFORM";
  }
  return "UNKNOWN";
}

std::optional<absl::Span<const uint8_t>> DhcpOptions::Get(uint8_t code) const {
  auto it = values_.find(code);
  if (it == values_.end()) return std::nullopt;
  return absl::MakeConstSpan(it->second);
}

std::optional<uint8_t> DhcpOptions::GetU8(uint8_t code) const {
  auto v = Get(code);
  if (!v || v->size() != 1) return std::nullopt;
  return (*v)[0];
}

std::optional<uint16_t> DhcpOptions::GetU16(uint8_t code) const {
  auto v = Get(code);
  if (!v || v->size() != 2) return std::nullopt;
  return static_cast<uint16_t>((*v)[0] << 8 | (*v)[1]);
}

std::optional<uint32_t> DhcpOptions::GetU32(uint8_t code) const {
  auto v = Get(code);
  if (!v || v->size() != 4) return std::nullopt;
  return static_cast<uint32_t>((*v)[0]) << 24 | (*v)[1] << 16 | (*v)[2] << 8 |
         (*v)[3];
}

std::optional<std::string> DhcpOptions::GetString(uint8_t code) const {
  auto v = Get(code);
  if (!v) return std::nullopt;
  return std::string(v->begin(), v->end());
}

void DhcpOptions::Set(uint8_t code, std::vector<uint8_t> value) {
  values_[code] = std::move(value);
}
void DhcpOptions::SetString(uint8_t code, absl::string_view value) {
  values_[code] = std::vector<uint8_t>(value.begin(), value.end());
}
void DhcpOptions::SetU16(uint8_t code, uint16_t v) {
  Set(code, {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
}
void DhcpOptions::SetU32(uint8_t code, uint32_t v) {
  Set(code, {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
             static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
}
void DhcpOptions::Append(uint8_t code, absl::Span<const uint8_t> more) {
  auto& v = values_[code];
  v.insert(v.end(), more.begin(), more.end());
}

MacAddr DhcpMessage::mac() const {
  MacAddr mac;
  std::copy(chaddr.begin(), chaddr.begin() + 6, mac.begin());
  return mac;
}

namespace {

// The BOOTP fields before the options (RFC 2131 figure 1), the magic cookie
// included; sname and file are left raw, as they may carry options.
absl::Status ParseFixedHeader(ByteReader& r, DhcpMessage* m,
                              absl::Span<const uint8_t>* sname,
                              absl::Span<const uint8_t>* file) {
  absl::Span<const uint8_t> chaddr, cookie;
  r.ReadU8(&m->op);
  r.ReadU8(&m->htype);
  r.ReadU8(&m->hlen);
  r.ReadU8(&m->hops);
  r.ReadU32(&m->xid);
  r.ReadU16(&m->secs);
  r.ReadU16(&m->flags);
  r.ReadU32(&m->ciaddr);
  r.ReadU32(&m->yiaddr);
  r.ReadU32(&m->siaddr);
  r.ReadU32(&m->giaddr);
  r.ReadBytes(16, &chaddr);
  r.ReadBytes(kSnameSize, sname);
  r.ReadBytes(kFileSize, file);
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("dhcp: want %d header bytes, got %d", kFixedHeaderSize,
                        r.pos() + r.remaining()));
  }
  if (m->op != kBootRequest && m->op != kBootReply) {
    return absl::InvalidArgumentError(absl::StrFormat("dhcp: op %d", m->op));
  }
  if (m->hlen > 16) {
    return absl::InvalidArgumentError(
        absl::StrFormat("dhcp: hlen %d exceeds 16", m->hlen));
  }
  if (!r.ReadBytes(4, &cookie) ||
      !std::equal(cookie.begin(), cookie.end(), kMagicCookie)) {
    return absl::InvalidArgumentError("dhcp: no magic cookie (plain BOOTP)");
  }
  std::copy(chaddr.begin(), chaddr.end(), m->chaddr.begin());
  return absl::OkStatus();
}

// Option 52: the file field, then sname, carry more options (RFC 2131 4.1);
// a field not overloaded is a string.
absl::Status ParseOverload(absl::Span<const uint8_t> sname,
                           absl::Span<const uint8_t> file, DhcpMessage* m) {
  uint8_t overload = 0;
  if (m->options.Has(kOptOverload)) {
    auto v = m->options.GetU8(kOptOverload);
    if (!v || *v < 1 || *v > 3) {
      return absl::InvalidArgumentError("dhcp: option 52: want 1 byte of 1..3");
    }
    overload = *v;
  }
  if (overload & 1) {
    absl::Status s = ParseOptionArea(file, "file (overloaded)", &m->options);
    if (!s.ok()) return s;
  } else {
    m->file = CString(file);
  }
  if (overload & 2) {
    absl::Status s = ParseOptionArea(sname, "sname (overloaded)", &m->options);
    if (!s.ok()) return s;
  } else {
    m->sname = CString(sname);
  }
  // Option 52 belongs in the options field only (RFC 2131 4.1): one found
  // in file or sname was appended to it above; the overload in effect is
  // the one read first (else the message would not serialize and parse
  // back, found by tests/fuzz/fuzz_dhcp).
  if (overload != 0) m->options.SetU8(kOptOverload, overload);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DhcpMessage> ParseDhcp(absl::Span<const uint8_t> data) {
  ByteReader r(data);
  DhcpMessage m;
  absl::Span<const uint8_t> sname, file;
  absl::Status s = ParseFixedHeader(r, &m, &sname, &file);
  if (!s.ok()) return s;
  s = ParseOptionArea(r.Rest(), "options", &m.options);
  if (!s.ok()) return s;
  s = ParseOverload(sname, file, &m);
  if (!s.ok()) return s;
  return m;
}

std::vector<uint8_t> SerializeDhcp(const DhcpMessage& m) {
  std::vector<uint8_t> out;
  out.reserve(576);
  out.push_back(m.op);
  out.push_back(m.htype);
  out.push_back(m.hlen);
  out.push_back(m.hops);
  PutU32(out, m.xid);
  PutU16(out, m.secs);
  PutU16(out, m.flags);
  PutU32(out, m.ciaddr);
  PutU32(out, m.yiaddr);
  PutU32(out, m.siaddr);
  PutU32(out, m.giaddr);
  out.insert(out.end(), m.chaddr.begin(), m.chaddr.end());
  PutField(out, m.sname, kSnameSize);
  PutField(out, m.file, kFileSize);
  out.insert(out.end(), std::begin(kMagicCookie), std::end(kMagicCookie));
  const auto& all = m.options.all();
  auto type = all.find(kOptMessageType);
  if (type != all.end()) PutOption(out, type->first, type->second);
  for (const auto& [code, value] : all) {
    if (code == kOptMessageType || code == kOptPad || code == kOptEnd) continue;
    PutOption(out, code, value);
  }
  out.push_back(kOptEnd);
  if (out.size() < kMinMessageSize) out.resize(kMinMessageSize, 0);
  return out;
}

}  // namespace wire
