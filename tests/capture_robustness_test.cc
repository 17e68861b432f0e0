// Truncated and corrupt captures give a clear error or a report, never a
// crash (these also run under ASan/UBSan): the firmware captures cut at many
// offsets, bytes flipped at random (seeded), and mutated frames fed to the
// core under every link type.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capture/diagnose.h"
#include "capture/render.h"
#include "gtest/gtest.h"
#include "tests/capture_scenarios.h"

namespace capture_test {
namespace {

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Capture(const std::string& name) {
  return SourceDir() + "/tests/fixtures/captures/" + name;
}

// Analyzes `content` written to a file; renders whatever came out.
absl::Status AnalyzeBytes(const std::string& content,
                          absl::Status* read_error) {
  // ctest runs tests as parallel processes: one file per test and process.
  std::string path = absl::StrCat(
      testing::TempDir(), "/pxd-",
      testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
      getpid(), ".pcap");
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  absl::StatusOr<capture::Report> report =
      capture::AnalyzeFile(path, GoldenConfig(), read_error);
  std::remove(path.c_str());
  if (!report.ok()) return report.status();
  EXPECT_FALSE(capture::RenderText(*report, {"x", true}).empty());
  EXPECT_FALSE(capture::RenderJson(*report, {"x", false}).empty());
  return absl::OkStatus();
}

TEST(DiagnoseRobustness, TruncatedCapturesSayWhereTheyBreak) {
  for (const char* name :
       {"seabios-ipxe-rom.pcap", "ovmf-edk2-pxe-to-ipxe-efi.pcap"}) {
    const std::string full = Bytes(Capture(name));
    ASSERT_GT(full.size(), 1000u);
    std::vector<size_t> cuts;
    for (size_t at = 0; at < 200; ++at) cuts.push_back(at);
    for (size_t at = 200; at < full.size(); at += full.size() / 150 + 1) {
      cuts.push_back(at);
    }
    for (size_t cut : cuts) {
      absl::Status read_error;
      absl::Status s = AnalyzeBytes(full.substr(0, cut), &read_error);
      if (cut < 24) {  // the pcap file header itself
        EXPECT_FALSE(s.ok()) << name << " cut at " << cut;
        EXPECT_TRUE(absl::StrContains(s.message(), "not a readable pcap"))
            << s.message();
        continue;
      }
      EXPECT_TRUE(s.ok()) << name << " cut at " << cut << ": " << s;
      if (!read_error.ok()) {
        EXPECT_TRUE(absl::StrContains(read_error.message(), "cannot be read"))
            << read_error.message();
      }
    }
  }
}

TEST(DiagnoseRobustness, TruncatedMidRecordNamesTheFrame) {
  const std::string full = Bytes(Capture("seabios-ipxe-rom.pcap"));
  absl::Status read_error;
  ASSERT_TRUE(AnalyzeBytes(full.substr(0, full.size() - 10), &read_error).ok());
  ASSERT_FALSE(read_error.ok());
  EXPECT_TRUE(
      absl::StrContains(read_error.message(), "frame 43 cannot be read"))
      << read_error.message();
}

TEST(DiagnoseRobustness, NotAPcapIsAClearError) {
  absl::Status read_error;
  absl::Status s =
      AnalyzeBytes("this is not a capture, just text\n", &read_error);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "not a readable pcap file"))
      << s.message();
}

TEST(DiagnoseRobustness, FlippedBytesNeverCrash) {
  std::mt19937 rng(20261126);
  for (const char* name :
       {"seabios-ipxe-rom.pcap", "ovmf-uefi-http-boot.pcap"}) {
    const std::string full = Bytes(Capture(name));
    for (int round = 0; round < 150; ++round) {
      std::string bad = full;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) {
        bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      absl::Status read_error;
      AnalyzeBytes(bad, &read_error).IgnoreError();
    }
  }
}

// Past libpcap: frames whose inner bytes are mutated, under each link type,
// straight into the core.
TEST(DiagnoseRobustness, MutatedFramesNeverCrashTheCore) {
  absl::StatusOr<Frames> frames =
      ReadFrames(Capture("ovmf-edk2-pxe-to-ipxe-efi.pcap"));
  ASSERT_TRUE(frames.ok());
  std::mt19937 rng(7);
  for (capture::LinkType link :
       {capture::LinkType::kEthernet, capture::LinkType::kLinuxSll,
        capture::LinkType::kRawIpv4}) {
    capture::TimelineBuilder builder(link, GoldenConfig());
    int number = 0;
    for (int round = 0; round < 20; ++round) {
      for (capture::Frame f : *frames) {
        if (rng() % 3 == 0 && f.bytes.size() > 14) {
          f.bytes[14 + rng() % (f.bytes.size() - 14)] ^=
              static_cast<uint8_t>(rng());
        }
        if (rng() % 5 == 0) f.bytes.resize(rng() % (f.bytes.size() + 1));
        f.number = ++number;
        builder.Add(f);
      }
    }
    capture::Report report =
        capture::Diagnose(std::move(builder).Finish(), GoldenConfig());
    EXPECT_FALSE(capture::RenderText(report, {"x", false}).empty());
    EXPECT_FALSE(capture::RenderJson(report, {"x", false}).empty());
  }
}

}  // namespace
}  // namespace capture_test
