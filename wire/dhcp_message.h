// DHCPv4 messages (RFC 2131 figure 1) and their options (RFC 2132), parsed
// into owned values and serialized deterministically.
#ifndef PXEPROXY_WIRE_DHCP_MESSAGE_H_
#define PXEPROXY_WIRE_DHCP_MESSAGE_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "wire/addr.h"

namespace wire {

enum : uint8_t { kBootRequest = 1, kBootReply = 2 };

enum MessageType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};
const char* MessageTypeName(uint8_t type);

enum OptionCode : uint8_t {
  kOptPad = 0,
  kOptSubnetMask = 1,
  kOptRouter = 3,
  kOptDns = 6,
  kOptVendorSpecific = 43,
  kOptLeaseTime = 51,
  kOptOverload = 52,
  kOptMessageType = 53,
  kOptServerId = 54,
  kOptParameterList = 55,
  kOptMaxMessageSize = 57,
  kOptVendorClass = 60,
  kOptClientId = 61,
  kOptTftpServerName = 66,
  kOptBootfileName = 67,
  kOptUserClass = 77,
  kOptRelayAgent = 82,
  kOptClientArch = 93,
  kOptClientNdi = 94,
  kOptClientGuid = 97,
  kOptIpxeEncap = 175,
  kOptEnd = 255,
};

constexpr uint16_t kBroadcastFlag = 0x8000;
constexpr size_t kFixedHeaderSize = 236;
constexpr size_t kMinMessageSize = 300;  // BOOTP minimum (RFC 1542)

// Options keyed by code. Repeated instances are concatenated on parse
// (RFC 3396), so each code has one value of any length.
class DhcpOptions {
 public:
  bool Has(uint8_t code) const { return values_.count(code) != 0; }
  // The raw bytes, or nullopt when absent.
  std::optional<absl::Span<const uint8_t>> Get(uint8_t code) const;
  // Typed getters demand the exact length: GetU16 on 3 bytes is nullopt.
  std::optional<uint8_t> GetU8(uint8_t code) const;
  std::optional<uint16_t> GetU16(uint8_t code) const;
  std::optional<uint32_t> GetU32(uint8_t code) const;
  std::optional<Ipv4> GetIpv4(uint8_t code) const { return GetU32(code); }
  std::optional<std::string> GetString(uint8_t code) const;

  void Set(uint8_t code, std::vector<uint8_t> value);
  void SetString(uint8_t code, absl::string_view value);
  void SetU8(uint8_t code, uint8_t v) { Set(code, {v}); }
  void SetU16(uint8_t code, uint16_t v);
  void SetU32(uint8_t code, uint32_t v);
  void SetIpv4(uint8_t code, Ipv4 v) { SetU32(code, v); }
  void Append(uint8_t code, absl::Span<const uint8_t> more);
  void Erase(uint8_t code) { values_.erase(code); }

  const std::map<uint8_t, std::vector<uint8_t>>& all() const { return values_; }

 private:
  std::map<uint8_t, std::vector<uint8_t>> values_;
};

struct DhcpMessage {
  uint8_t op = kBootRequest;
  uint8_t htype = 1;
  uint8_t hlen = 6;
  uint8_t hops = 0;
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  Ipv4 ciaddr = 0;
  Ipv4 yiaddr = 0;
  Ipv4 siaddr = 0;
  Ipv4 giaddr = 0;
  std::array<uint8_t, 16> chaddr{};
  std::string sname;  // up to the first NUL (an unterminated one taken whole)
  std::string file;   // likewise; empty when overloaded with options
  DhcpOptions options;

  std::optional<uint8_t> message_type() const {
    return options.GetU8(kOptMessageType);
  }
  // The first six bytes of chaddr (Ethernet clients).
  MacAddr mac() const;
};

// Strict on framing (a length that overruns is an error naming the option),
// liberal on meaning: a missing END option is accepted, sname/file may be
// unterminated, options may be overloaded into file/sname (option 52).
absl::StatusOr<DhcpMessage> ParseDhcp(absl::Span<const uint8_t> data);

// Deterministic: option 53 first, then ascending codes, then 255; values over
// 255 bytes are split into consecutive instances (RFC 3396); padded with zeros
// to at least 300 bytes. sname/file are truncated so that they stay
// NUL-terminated (63 and 127 bytes at most).
std::vector<uint8_t> SerializeDhcp(const DhcpMessage& msg);

}  // namespace wire

#endif  // PXEPROXY_WIRE_DHCP_MESSAGE_H_
