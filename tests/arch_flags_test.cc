// The flags that name files and URLs per architecture, the adaptive UEFI
// window and the Raspberry Pi switch, down to the validated configuration
// (--boot_file=ARCH=FILE, --http_boot_url=ARCH=URL, the MAC rules file).
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "flags.h"
#include "flags_internal.h"
#include "gtest/gtest.h"

namespace pxeproxy {
namespace {

class ArchFlags : public testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_tftp_root, "/");
    absl::SetFlag(&FLAGS_boot_file, "");
    absl::SetFlag(&FLAGS_http_boot_url, "");
  }
  void TearDown() override {
    absl::SetFlag(&FLAGS_boot_file, "");
    absl::SetFlag(&FLAGS_http_boot_url, "");
  }
  absl::FlagSaver saver_;
};

TEST_F(ArchFlags, RepeatedBootFileAndHttpUrl) {
  absl::SetFlag(&FLAGS_boot_file, "efi_arm64=snp-arm64.efi");
  absl::SetFlag(&FLAGS_boot_file, "27=riscv64.efi");
  absl::SetFlag(&FLAGS_boot_file, "efi_x64=ipxe.efi");
  absl::SetFlag(&FLAGS_boot_file, "bios=");
  absl::SetFlag(&FLAGS_http_boot_url, "http://10.0.0.5/x64.efi");
  absl::SetFlag(&FLAGS_http_boot_url, "http_arm64=http://10.0.0.5/a?x=1");
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& f = c->responder.arch_boot_files;
  EXPECT_EQ(f.at(11), "snp-arm64.efi");
  EXPECT_EQ(f.at(27), "riscv64.efi");
  EXPECT_EQ(f.at(7), "ipxe.efi");
  EXPECT_EQ(f.at(9), "ipxe.efi");
  EXPECT_EQ(f.at(0), "");
  EXPECT_EQ(c->responder.http_boot_urls.at(16), "http://10.0.0.5/x64.efi");
  EXPECT_EQ(c->responder.http_boot_urls.at(19), "http://10.0.0.5/a?x=1");
  EXPECT_FALSE(c->responder.raspberry_pi);
}

TEST_F(ArchFlags, UnknownArchRefusedWithTheNames) {
  absl::SetFlag(&FLAGS_boot_file, "efi_sparc=x.efi");
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--boot_file='efi_sparc=x.efi'"),
            std::string::npos);
  EXPECT_NE(c.status().message().find("efi_riscv64 (27)"), std::string::npos)
      << c.status();
  for (const char* bad : {"x.efi", "http_arm64=x.efi", "99=x.efi"}) {
    absl::SetFlag(&FLAGS_boot_file, "");
    absl::SetFlag(&FLAGS_boot_file, bad);
    EXPECT_FALSE(BuildConfig({"eth0"}).ok()) << bad;
  }
  absl::SetFlag(&FLAGS_boot_file, "");
  for (const char* bad :
       {"efi_arm64=http://x/y", "http_arm64=tftp://x/y", "42=http://x/y"}) {
    absl::SetFlag(&FLAGS_http_boot_url, "");
    absl::SetFlag(&FLAGS_http_boot_url, bad);
    EXPECT_FALSE(BuildConfig({"eth0"}).ok()) << bad;
  }
}

TEST_F(ArchFlags, UefiAdaptiveWindow) {
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->responder.uefi_adaptive_window_ms, 30000);
  absl::SetFlag(&FLAGS_uefi_adaptive_window, 0);
  c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->responder.uefi_adaptive_window_ms, 0);
  absl::SetFlag(&FLAGS_uefi_adaptive_window, 3601);
  c = BuildConfig({"eth0"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--uefi_adaptive_window='3601'"),
            std::string::npos)
      << c.status();
}

TEST_F(ArchFlags, RaspberryPiFlag) {
  absl::SetFlag(&FLAGS_raspberry_pi, true);
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->responder.raspberry_pi);
}

TEST(ArchMacRules, PerArchInRulesFile) {
  absl::StatusOr<std::vector<proxydhcp::MacRule>> rules = ParseMacRules(
      "52:54:00 boot_file=efi_arm64=lab.efi http_boot_url=19=http://h/a.efi\n"
      "00:11 http_boot_url=http://h/x64.efi boot_file=generic.efi\n",
      "rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ((*rules)[0].arch_boot_files.at(11), "lab.efi");
  EXPECT_EQ((*rules)[0].http_boot_urls.at(19), "http://h/a.efi");
  EXPECT_FALSE((*rules)[0].boot_file.has_value());
  EXPECT_EQ((*rules)[1].http_boot_urls.at(16), "http://h/x64.efi");
  EXPECT_EQ((*rules)[1].boot_file, "generic.efi");
  absl::StatusOr<std::vector<proxydhcp::MacRule>> bad =
      ParseMacRules("52:54:00 boot_file=arm=x.efi\n", "rules");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rules:1: --boot_file='arm=x.efi': "
                                        "unknown architecture 'arm'"),
            std::string::npos)
      << bad.status();
}

}  // namespace
}  // namespace pxeproxy
