// Golden tests of `pxeproxy --diagnose`: the text and JSON reports on the
// real firmware captures (each must reach the menu) and on the broken
// scenarios derived from them (each must be named by its finding).
// PXEPROXY_REGENERATE_GOLDEN=1 rewrites the goldens under
// tests/golden/diagnose/ and the scenario pcaps under tests/fixtures/diagnose/.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "capture/diagnose.h"
#include "capture/render.h"
#include "gtest/gtest.h"
#include "tests/capture_scenarios.h"

namespace capture_test {
namespace {

bool Regenerate() {
  const char* v = std::getenv("PXEPROXY_REGENERATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

void CheckGolden(const std::string& name, const std::string& actual) {
  std::string path = SourceDir() + "/tests/golden/diagnose/" + name;
  if (Regenerate()) return WriteFile(path, actual);
  EXPECT_EQ(ReadFile(path), actual)
      << path << " differs; if the change is intended, rerun with "
      << "PXEPROXY_REGENERATE_GOLDEN=1 and review the diff";
}

capture::Report Analyze(const std::string& path,
                        const capture::AnalyzerConfig& config) {
  absl::Status read_error;
  absl::StatusOr<capture::Report> report =
      capture::AnalyzeFile(path, config, &read_error);
  EXPECT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(read_error.ok()) << read_error;
  return report.ok() ? *std::move(report) : capture::Report();
}

void CheckRendered(const std::string& stem, const capture::Report& report) {
  capture::RenderOptions options{stem + ".pcap", false};
  CheckGolden(stem + ".txt", capture::RenderText(report, options));
  CheckGolden(stem + ".jsonl", capture::RenderJson(report, options));
}

bool HasFinding(const capture::Report& r, const std::string& id) {
  for (const capture::Finding& f : r.segment) {
    if (f.id == id) return true;
  }
  for (const capture::ClientReport& c : r.clients) {
    for (const capture::Finding& f : c.findings) {
      if (f.id == id) return !f.evidence.empty();
    }
  }
  return false;
}

class GoodCapture : public testing::TestWithParam<std::string> {};

TEST_P(GoodCapture, EveryClientReachesTheMenu) {
  const std::string stem = GetParam();
  capture::Report report =
      Analyze(SourceDir() + "/tests/fixtures/captures/" + stem + ".pcap",
              GoldenConfig());
  ASSERT_EQ(report.clients.size(), 1u);
  for (const capture::ClientReport& c : report.clients) {
    EXPECT_TRUE(c.ok);
    EXPECT_EQ(c.stage, capture::Stage::kMenu);
    EXPECT_EQ(c.menu_url, "http://10.231.0.1:8080/menu.ipxe");
    for (const capture::Finding& f : c.findings) {
      ADD_FAILURE() << "unexpected finding on a good boot: " << f.id << ": "
                    << f.message;
    }
  }
  EXPECT_TRUE(report.segment.empty());
  EXPECT_EQ(capture::SummaryLine(report), "1 client: 1 reached the menu");
  CheckRendered(stem, report);
}

INSTANTIATE_TEST_SUITE_P(Diagnose, GoodCapture,
                         testing::Values("ovmf-edk2-pxe-to-ipxe-efi",
                                         "seabios-ipxe-rom",
                                         "ovmf-uefi-http-boot"),
                         [](const testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (char& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

class BrokenScenario : public testing::TestWithParam<Scenario> {};

TEST_P(BrokenScenario, IsNamedByItsFinding) {
  const Scenario& s = GetParam();
  absl::StatusOr<Frames> base =
      ReadFrames(SourceDir() + "/tests/fixtures/captures/" + s.base);
  ASSERT_TRUE(base.ok()) << base.status();
  Frames frames = s.make(*base);
  const std::string fixture =
      SourceDir() + "/tests/fixtures/diagnose/" + s.name + ".pcap";
  if (Regenerate()) {
    ASSERT_TRUE(WriteFrames(fixture, frames).ok());
  } else {
    // The generator is deterministic and the committed pcap is its output.
    std::string tmp = testing::TempDir() + "/pxd-" + s.name + "-" +
                      std::to_string(getpid()) + ".pcap";
    ASSERT_TRUE(WriteFrames(tmp, frames).ok());
    EXPECT_EQ(ReadFile(tmp), ReadFile(fixture))
        << fixture << " is stale; regenerate with PXEPROXY_REGENERATE_GOLDEN=1";
    std::remove(tmp.c_str());
  }
  capture::AnalyzerConfig config = GoldenConfig();
  if (s.flags) s.flags(config.responder);
  capture::Report report = Analyze(fixture, config);
  ASSERT_EQ(report.clients.size(), 1u);
  EXPECT_TRUE(HasFinding(report, s.finding))
      << s.name << " must be named " << s.finding << ":\n"
      << capture::RenderText(report, {s.name, false});
  EXPECT_EQ(report.clients[0].ok, s.ok) << capture::SummaryLine(report);
  CheckRendered(s.name, report);
}

INSTANTIATE_TEST_SUITE_P(Diagnose, BrokenScenario,
                         testing::ValuesIn(Scenarios()),
                         [](const testing::TestParamInfo<Scenario>& p) {
                           std::string n = p.param.name;
                           for (char& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

}  // namespace
}  // namespace capture_test
