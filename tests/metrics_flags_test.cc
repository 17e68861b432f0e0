// Metrics and check flags: --metrics_address, --boot_stall_seconds, --check.
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "flags.h"
#include "flags_internal.h"
#include "gtest/gtest.h"

namespace pxeproxy {
namespace {

class MetricsFlags : public testing::Test {
 protected:
  void SetUp() override { absl::SetFlag(&FLAGS_tftp_root, "/"); }
  absl::FlagSaver saver_;
};

TEST_F(MetricsFlags, OffByDefault) {
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->metrics.http);
  EXPECT_EQ(c->metrics.boot_stall_seconds, 30);
  EXPECT_FALSE(c->check);
}

TEST_F(MetricsFlags, Address) {
  absl::SetFlag(&FLAGS_metrics_address, "127.0.0.1:9467");
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->metrics.http);
  EXPECT_EQ(c->metrics.ip, 0x7f000001u);
  EXPECT_EQ(c->metrics.port, 9467);
}

TEST_F(MetricsFlags, BadValuesAreNamed) {
  for (const char* bad : {"9467", "localhost:9467", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:x", "[::1]:9467"}) {
    absl::SetFlag(&FLAGS_metrics_address, bad);
    absl::StatusOr<Config> c = BuildConfig({"eth0"});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("--metrics_address="),
              std::string::npos)
        << c.status().message();
  }
  absl::SetFlag(&FLAGS_metrics_address, "");
  absl::SetFlag(&FLAGS_boot_stall_seconds, 0);
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--boot_stall_seconds"),
            std::string::npos);
}

TEST_F(MetricsFlags, CheckIsNotForDiagnose) {
  absl::SetFlag(&FLAGS_check, true);
  ASSERT_TRUE(BuildConfig({"eth0"}).ok());
  absl::SetFlag(&FLAGS_diagnose, "eth0");
  EXPECT_FALSE(BuildConfig({}).ok());
}

}  // namespace
}  // namespace pxeproxy
