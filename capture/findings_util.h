// Shared helpers of the findings files (internal to capture/).
#ifndef PXEPROXY_CAPTURE_FINDINGS_UTIL_H_
#define PXEPROXY_CAPTURE_FINDINGS_UTIL_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "capture/describe.h"
#include "capture/diagnosis.h"

namespace capture {

// The finding with `id` in `out`; created with the texts when new, so that
// repeated evidence gathers under one finding.
Finding& Upsert(std::vector<Finding>& out, const std::string& id,
                Severity severity, const std::string& message,
                const std::string& fix);
void AddEvidence(Finding& f, int number, absl::Time time);
inline void AddEvidence(Finding& f, const Event& e) {
  AddEvidence(f, e.number, e.time);
}

// The client's request that reply `i` answers: the latest one with its xid.
const DhcpEvent* RequestOf(const std::vector<DhcpRef>& all, size_t i);
bool FromKind(const std::vector<DhcpRef>& all, size_t i,
              proxydhcp::ClientKind kind);

// iPXE drops a proxy reply whose siaddr is 0 unless it carries a 43.9 menu
// (iPXE dhcp_has_pxeopts(), PROTOCOL.md section 8).
bool IpxeIgnores(const wire::DhcpMessage& proxy_reply);

// A client's transfers by file name and by server address, built once per
// client so that each reply's lookup is a binary search: one MAC can have
// thousands of replies and transfers in a capture.
class TransferIndex {
 public:
  explicit TransferIndex(const ClientTimeline& c);
  // The client's first TFTP request after `reply` for the file it carried
  // or to the next-server it named (another host than the server itself).
  const TftpTransfer* Followed(const Event& reply, const DhcpEvent& d) const;

 private:
  // The first of `positions` (ascending) whose RRQ is at or after `number`;
  // npos: none.
  size_t FirstFrom(const std::vector<size_t>* positions, int number) const;

  const ClientTimeline& c_;
  absl::flat_hash_map<std::string, std::vector<size_t>> by_file_;
  absl::flat_hash_map<wire::Ipv4, std::vector<size_t>> by_server_;
};

// findings_offers.cc
void CheckOffers(const ClientTimeline& c, const std::vector<DhcpRef>& all,
                 const AnalyzerConfig& config, std::vector<Finding>& out);
void CheckIpxe(const TransferIndex& transfers, const std::vector<DhcpRef>& all,
               const AnalyzerConfig& config, std::vector<Finding>& out);
void CheckRelay(const std::vector<DhcpRef>& all, std::vector<Finding>& out);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_FINDINGS_UTIL_H_
