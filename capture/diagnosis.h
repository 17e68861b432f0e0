// From timelines to a diagnosis: how far each client's boot got, and named
// findings (docs/protocol.md "Diagnose findings"), each with the packets
// that show it and a concrete fix. Pure: values in, values out.
#ifndef PXEPROXY_CAPTURE_DIAGNOSIS_H_
#define PXEPROXY_CAPTURE_DIAGNOSIS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "capture/finding.h"
#include "capture/timeline.h"

namespace capture {

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

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_DIAGNOSIS_H_
