#include "wire/pxe_options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "wire/byte_reader.h"

namespace wire {

std::optional<std::map<uint8_t, std::vector<uint8_t>>> ParseSubOptions(
    absl::Span<const uint8_t> data) {
  std::map<uint8_t, std::vector<uint8_t>> out;
  ByteReader r(data);
  while (r.remaining() > 0) {
    uint8_t code, len;
    r.ReadU8(&code);
    if (code == 0) continue;
    if (code == 255) break;
    absl::Span<const uint8_t> v;
    if (!r.ReadU8(&len) || !r.ReadBytes(len, &v)) return std::nullopt;
    auto& slot = out[code];
    slot.insert(slot.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<std::string> UserClasses(absl::Span<const uint8_t> value) {
  std::vector<std::string> rfc3004;
  ByteReader r(value);
  bool ok = !value.empty();
  while (ok && r.remaining() > 0) {
    uint8_t len;
    absl::Span<const uint8_t> v;
    ok = r.ReadU8(&len) && len > 0 && r.ReadBytes(len, &v);
    if (ok) rfc3004.emplace_back(v.begin(), v.end());
  }
  if (ok) return rfc3004;
  return {std::string(value.begin(), value.end())};
}

std::optional<uint16_t> ClientArchOption(const DhcpOptions& options) {
  auto a = options.Get(kOptClientArch);
  if (!a || a->size() < 2 || a->size() % 2 != 0) return std::nullopt;
  return static_cast<uint16_t>((*a)[0] << 8 | (*a)[1]);
}

std::optional<uint16_t> ArchFromVendorClass(absl::string_view vendor_class) {
  std::vector<absl::string_view> parts = absl::StrSplit(vendor_class, ':');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    uint32_t v;
    if (parts[i] == "Arch" && parts[i + 1].size() == 5 &&
        absl::SimpleAtoi(parts[i + 1], &v) && v <= 0xffff) {
      return static_cast<uint16_t>(v);
    }
  }
  return std::nullopt;
}

}  // namespace wire
