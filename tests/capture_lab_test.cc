// The diagnosis of the lab's own recordings (tests/e2e/fixtures: real
// firmware booting through pxeproxy itself in QEMU). Their bytes belong to
// the lab and may be re-recorded, so these rows check meaning, not goldens.
#include <sys/stat.h>

#include "capture/diagnose.h"
#include "gtest/gtest.h"
#include "tests/capture_scenarios.h"

namespace capture_test {
namespace {

struct LabRow {
  std::string file;
  size_t clients;
  bool ok;
  std::vector<std::string> findings;  // exactly these ids, in any order
};

std::vector<std::string> Ids(const capture::ClientReport& c) {
  std::vector<std::string> ids;
  for (const capture::Finding& f : c.findings) ids.push_back(f.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(LabRecordings, AreExplained) {
  const LabRow rows[] = {
      {"ovmf-edk2-pxe-to-menu.pcap", 1, true, {}},
      {"seabios-ipxe-rom-to-menu.pcap", 1, true, {}},
      // Recorded on the bridge after pxeproxy sent windows with UDP GSO: each
      // window is one datagram of several DATA packets (not "incomplete").
      {"ovmf-edk2-gso-windows.pcap", 1, true, {}},
      // Relayed: the proxy answers giaddr:67, so no relay_broadcast_reply.
      {"relay-ovmf-serverside.pcap", 1, true, {}},
      {"relay-ovmf-clientside.pcap", 1, true, {}},
      {"corporate-bootfile-ipxe-loop.pcap",
       1,
       false,
       {"corporate_boot_info", "ipxe_chainload_loop"}},
      {"plain-dhcp-clients.pcap", 0, false, {}},
  };
  capture::AnalyzerConfig config = GoldenConfig();
  config.responder.menu_url = "http://10.77.3.3/menu.ipxe";
  for (const LabRow& row : rows) {
    std::string path = SourceDir() + "/tests/e2e/fixtures/" + row.file;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      GTEST_SKIP() << path << " is not recorded yet";
    }
    absl::Status read_error;
    absl::StatusOr<capture::Report> report =
        capture::AnalyzeFile(path, config, &read_error);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(read_error.ok()) << read_error;
    ASSERT_EQ(report->clients.size(), row.clients) << row.file;
    EXPECT_TRUE(report->segment.empty()) << row.file;
    for (const capture::ClientReport& c : report->clients) {
      EXPECT_EQ(c.ok, row.ok) << row.file;
      std::vector<std::string> want = row.findings;
      std::sort(want.begin(), want.end());
      EXPECT_EQ(Ids(c), want) << row.file;
      if (row.ok) {
        EXPECT_EQ(c.stage, capture::Stage::kMenu) << row.file;
      }
    }
  }
}

TEST(LabRecordings, PlainDhcpClientsAreNotBootClients) {
  std::string path =
      SourceDir() + "/tests/e2e/fixtures/plain-dhcp-clients.pcap";
  struct stat st;
  if (stat(path.c_str(), &st) != 0) GTEST_SKIP() << path << " missing";
  absl::Status read_error;
  absl::StatusOr<capture::Report> report =
      capture::AnalyzeFile(path, GoldenConfig(), &read_error);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clients.empty());
  EXPECT_EQ(report->other_dhcp_clients, 3);
}

}  // namespace
}  // namespace capture_test
