// The diagnose flags: --diagnose needs no interface argument and no TFTP
// root, and its errors name the flag and the value.
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "flags.h"
#include "flags_internal.h"
#include "gtest/gtest.h"

namespace pxeproxy {
namespace {

const char kCapture[] =
    PXEPROXY_SOURCE_DIR "/tests/fixtures/captures/seabios-ipxe-rom.pcap";

class DiagnoseFlags : public testing::Test {
 protected:
  absl::FlagSaver saver_;
};

TEST_F(DiagnoseFlags, OfflineNeedsNoInterfaceNorTftpRoot) {
  absl::SetFlag(&FLAGS_diagnose, kCapture);
  absl::SetFlag(&FLAGS_tftp_root, "/nonexistent/pxd");
  absl::SetFlag(&FLAGS_diagnose_format, "json");
  absl::StatusOr<Config> c = BuildConfig({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->diagnose.enabled);
  EXPECT_EQ(c->diagnose.target, kCapture);
  EXPECT_TRUE(c->diagnose.json);
  EXPECT_TRUE(c->interfaces.empty());
}

TEST_F(DiagnoseFlags, LiveTakesOptions) {
  absl::SetFlag(&FLAGS_diagnose, "eth0");
  absl::SetFlag(&FLAGS_diagnose_seconds, 30);
  absl::SetFlag(&FLAGS_diagnose_write, "/tmp/pxd-seen.pcap");
  absl::StatusOr<Config> c = BuildConfig({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->diagnose.seconds, 30);
  EXPECT_EQ(c->diagnose.write_file, "/tmp/pxd-seen.pcap");
  EXPECT_FALSE(c->diagnose.json);
}

TEST_F(DiagnoseFlags, ErrorsNameTheFlag) {
  struct Row {
    std::string target;
    int seconds;
    std::string write;
    std::string format;
    std::vector<std::string> positional;
    std::string error;
  };
  const Row rows[] = {
      {"eth0", 0, "", "xml", {}, "--diagnose_format='xml'"},
      {"eth0", -1, "", "text", {}, "--diagnose_seconds='-1'"},
      {"eth0", 0, "", "text", {"eth1"}, "'eth1' is one too many"},
      {kCapture,
       0,
       "/tmp/x.pcap",
       "text",
       {},
       "--diagnose_write='/tmp/x.pcap'"},
      {"/no/such/boot.pcap", 0, "", "text", {}, "neither a capture file"},
      {"missing.pcap", 0, "", "text", {}, "neither a capture file"},
  };
  for (const Row& r : rows) {
    absl::FlagSaver row_saver;
    absl::SetFlag(&FLAGS_diagnose, r.target);
    absl::SetFlag(&FLAGS_diagnose_seconds, r.seconds);
    absl::SetFlag(&FLAGS_diagnose_write, r.write);
    absl::SetFlag(&FLAGS_diagnose_format, r.format);
    absl::StatusOr<Config> c = BuildConfig(r.positional);
    ASSERT_FALSE(c.ok()) << r.target;
    EXPECT_TRUE(absl::StrContains(c.status().message(), r.error))
        << c.status().message();
  }
}

TEST_F(DiagnoseFlags, StandardInputIsACaptureFile) {
  absl::SetFlag(&FLAGS_diagnose, "-");
  absl::SetFlag(&FLAGS_diagnose_write, "/tmp/pxd-x.pcap");
  absl::StatusOr<Config> c = BuildConfig({});
  ASSERT_FALSE(c.ok());  // nothing live to save
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--diagnose_write"));
  absl::SetFlag(&FLAGS_diagnose_write, "");
  EXPECT_TRUE(BuildConfig({}).ok());
}

TEST_F(DiagnoseFlags, WithoutDiagnoseAnInterfaceIsStillRequired) {
  EXPECT_FALSE(BuildConfig({}).ok());
}

}  // namespace
}  // namespace pxeproxy
