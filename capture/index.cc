#include "capture/index.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace capture {

namespace pd = proxydhcp;

std::vector<DhcpRef> DhcpEventsOf(const ClientTimeline& c) {
  std::vector<DhcpRef> out;
  struct PerXid {
    int request = -1;
    int cycle_first_reply = -1;
    int discovery_start = -1;
    int first_address_offer = -1;
  };
  std::unordered_map<uint32_t, PerXid> by_xid;
  for (const Event& e : c.events) {
    auto* d = std::get_if<DhcpEvent>(&e.body);
    if (d == nullptr) continue;
    PerXid& x = by_xid[d->msg.xid];
    const int i = static_cast<int>(out.size());
    out.push_back({&e, d, x.request, x.cycle_first_reply, x.discovery_start,
                   x.first_address_offer});
    if (d->role == Role::kClient) {
      x.request = i;
      if (d->type == wire::kDiscover) {
        x.cycle_first_reply = -1;
        if (x.discovery_start < 0) x.discovery_start = i;
      }
    } else {
      if (x.cycle_first_reply < 0) x.cycle_first_reply = i;
      if (x.first_address_offer < 0 && x.discovery_start >= 0 &&
          d->role == Role::kCorporate && d->type == wire::kOffer) {
        x.first_address_offer = i;
      }
    }
  }
  return out;
}

const DhcpEvent* RequestOf(const std::vector<DhcpRef>& all, size_t i) {
  return all[i].request >= 0 ? all[all[i].request].dhcp : nullptr;
}

bool FromKind(const std::vector<DhcpRef>& all, size_t i, pd::ClientKind kind) {
  const DhcpEvent* req = RequestOf(all, i);
  return req != nullptr && req->client && req->client->kind == kind;
}

std::string BootFileOf(const wire::DhcpMessage& m) {
  if (!m.file.empty()) return m.file;
  // Option 67 often carries its C string's NUL (dnsmasq, pxeproxy itself:
  // docs/protocol.md "The proxy offer on port 67"); the name ends there.
  std::string v = m.options.GetString(wire::kOptBootfileName).value_or("");
  return v.substr(0, v.find('\0'));
}

bool LooksLikeIpxeBinary(const std::string& file,
                         const pd::ResponderConfig& config) {
  for (const auto& [arch, name] : config.boot_files) {
    if (!name.empty() && file == name) return true;
  }
  for (const auto& [code, name] : config.arch_boot_files) {
    if (!name.empty() && file == name) return true;
  }
  std::string base = absl::AsciiStrToLower(file.substr(file.rfind('/') + 1));
  for (const char* suffix : {".kpxe", ".kkpxe", ".kkkpxe", ".pxe", ".lkrn"}) {
    if (absl::EndsWith(base, suffix)) return true;
  }
  return absl::EndsWith(base, ".efi") &&
         (absl::StrContains(base, "ipxe") || absl::StartsWith(base, "snp"));
}

bool IpxeIgnores(const wire::DhcpMessage& m) {
  if (m.siaddr != 0) return false;
  auto v = m.options.Get(wire::kOptVendorSpecific);
  auto subs = v ? wire::ParseSubOptions(*v) : std::nullopt;
  return !subs || !subs->count(9);
}

TransferIndex::TransferIndex(const ClientTimeline& c) : c_(c) {
  for (size_t i = 0; i < c.transfers.size(); ++i) {
    by_file_[c.transfers[i].filename].push_back(i);
    by_server_[c.transfers[i].server_ip].push_back(i);
  }
}

size_t TransferIndex::FirstFrom(const std::vector<size_t>* positions,
                                int number) const {
  if (positions == nullptr) return std::string::npos;
  // Transfers are in capture order, so their RRQ numbers ascend.
  auto it = std::lower_bound(
      positions->begin(), positions->end(), number,
      [this](size_t i, int n) { return c_.transfers[i].rrq_number < n; });
  return it == positions->end() ? std::string::npos : *it;
}

const TftpTransfer* TransferIndex::Followed(const Event& reply,
                                            const DhcpEvent& d) const {
  const std::string file = BootFileOf(d.msg);
  const wire::Ipv4 next = d.msg.siaddr;
  auto positions = [](const auto& index,
                      const auto& key) -> const std::vector<size_t>* {
    auto it = index.find(key);
    return it == index.end() ? nullptr : &it->second;
  };
  size_t first = std::string::npos;
  if (!file.empty()) first = FirstFrom(positions(by_file_, file), reply.number);
  if (next != 0 && next != d.server_id()) {
    first =
        std::min(first, FirstFrom(positions(by_server_, next), reply.number));
  }
  return first == std::string::npos ? nullptr : &c_.transfers[first];
}

}  // namespace capture
