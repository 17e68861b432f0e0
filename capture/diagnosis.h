// From timelines to a diagnosis: how far each client's boot got, and named
// findings (PROTOCOL.md section 7 and more), each with the packets that show
// it and a concrete fix. Pure: values in, values out.
#ifndef PXEPROXY_CAPTURE_DIAGNOSIS_H_
#define PXEPROXY_CAPTURE_DIAGNOSIS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "capture/timeline.h"

namespace capture {

enum class Severity { kError, kWarning, kInfo };
const char* SeverityName(Severity s);

struct Evidence {
  int number = 0;
  absl::Time time;
};

struct Finding {
  std::string id;  // stable, snake_case: tests and tools match on it
  Severity severity = Severity::kError;
  std::string message;
  std::string fix;
  std::vector<Evidence> evidence;
  std::set<int> evidence_numbers;  // AddEvidence's de-dup of `evidence`
  // Evidence beyond kMaxEvidence, not listed (the list keeps the first ones
  // and the latest): a client retrying for hours is one finding, not pages.
  int evidence_more = 0;
};
constexpr size_t kMaxEvidence = 12;

// How far a client got, in boot order.
enum class Stage {
  kDiscover,     // asked, nothing useful came back
  kOffered,      // a boot offer arrived
  kAddress,      // the corporate server ACKed an address
  kBinl,         // the proxy ACKed on port 4011
  kBootFile,     // the boot file (iPXE) was downloaded
  kIpxe,         // iPXE is running: its DISCOVER was seen
  kMenuOffered,  // the proxy offered iPXE the menu URL
  kMenu,         // the menu was fetched
};
const char* StageName(Stage s);

struct ClientReport {
  ClientTimeline timeline;
  std::string description;  // "UEFI x64 PXE (PXEClient:...), then iPXE"
  Stage stage = Stage::kDiscover;
  std::string menu_url;
  Evidence menu;  // the packet that reached `stage` kMenu / kMenuOffered
  std::vector<Finding> findings;
  // Reached the menu, or was offered it (the fetch may be off the capture)
  // with no error finding.
  bool ok = false;
};

struct Report {
  std::vector<ClientReport> clients;
  std::vector<Finding> segment;  // about the network rather than one client
  int frames = 0;
  int decode_errors = 0;
  std::vector<std::pair<int, std::string>> error_samples;
  int other_dhcp_clients = 0;
  absl::Time first_time;
  absl::Time last_time;
  std::vector<wire::Ipv4> proxies;
};

Report Diagnose(Timeline timeline, const AnalyzerConfig& config);

// Internal pieces, exposed for the tests.
std::vector<Finding> DhcpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config);
std::vector<Finding> TftpFindings(const ClientTimeline& c,
                                  const AnalyzerConfig& config);
// True for names of iPXE binaries (undionly.kpxe, snponly.efi, ipxe.efi...)
// or any configured boot file: what an iPXE client must not be offered.
bool LooksLikeIpxeBinary(const std::string& file,
                         const proxydhcp::ResponderConfig& config);
// The boot file a reply carries: the file field, else option 67.
std::string BootFileOf(const wire::DhcpMessage& m);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DIAGNOSIS_H_
