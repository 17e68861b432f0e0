// Flag validation: bad values are refused before any socket opens, and the
// error names the flag and the value.
#include "flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "flags_internal.h"
#include "gtest/gtest.h"

namespace pxeproxy {
namespace {

class Flags : public testing::Test {
 protected:
  void SetUp() override { absl::SetFlag(&FLAGS_tftp_root, "/"); }
  absl::FlagSaver saver_;
};

void ExpectError(const std::string& needle) {
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(needle), std::string::npos)
      << c.status().message();
}

TEST_F(Flags, DefaultsAreValid) {
  absl::StatusOr<Config> c = BuildConfig({"eth0", "eth1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->interfaces.size(), 2u);
  EXPECT_EQ(c->responder.boot_files.at(proxydhcp::BootArch::kBios),
            "undionly.kpxe");
  EXPECT_EQ(c->responder.boot_files.at(proxydhcp::BootArch::kEfiX64),
            "snponly.efi");
  EXPECT_FALSE(c->responder.boot_files.count(proxydhcp::BootArch::kEfiArm64));
  EXPECT_EQ(c->responder.uefi_strategy, proxydhcp::UefiStrategy::kBinl);
  EXPECT_EQ(c->responder.classify.vendor_class_prefixes,
            (std::vector<std::string>{"PXEClient", "HTTPClient"}));
}

// Hostile LAN: the hostile-LAN flags reach the cores, and bad values are named.
TEST_F(Flags, HostileLanDefaults) {
  absl::StatusOr<Config> c = BuildConfig({"eth0", "eth1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->responder.reverse_path, proxydhcp::ReversePath::kStrict);
  EXPECT_EQ(c->tftp.max_sessions_per_host, 32);
  // TFTP answers only on the served interfaces unless told otherwise.
  EXPECT_EQ(c->tftp.interfaces, (std::vector<std::string>{"eth0", "eth1"}));
}

TEST_F(Flags, HostileLanFlagsReachTheConfig) {
  absl::SetFlag(&FLAGS_reverse_path, "loose");
  absl::SetFlag(&FLAGS_tftp_max_sessions_per_host, 4);
  absl::SetFlag(&FLAGS_tftp_listen_all, true);
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->responder.reverse_path, proxydhcp::ReversePath::kLoose);
  EXPECT_EQ(c->tftp.max_sessions_per_host, 4);
  EXPECT_TRUE(c->tftp.interfaces.empty());
}

TEST_F(Flags, RejectsBadReversePath) {
  absl::SetFlag(&FLAGS_reverse_path, "off");
  ExpectError("--reverse_path='off'");
}

TEST_F(Flags, RejectsBadSessionsPerHost) {
  absl::SetFlag(&FLAGS_tftp_max_sessions_per_host, 0);
  ExpectError("tftp_max_sessions_per_host");
}

TEST_F(Flags, NeedsAnInterface) {
  EXPECT_FALSE(BuildConfig({}).ok());
  EXPECT_FALSE(BuildConfig({"a-very-long-interface-name"}).ok());
  EXPECT_FALSE(BuildConfig({"--menu-url=x"}).ok());
}

TEST_F(Flags, RejectsBadMenuUrl) {
  absl::SetFlag(&FLAGS_menu_url, "menu.ipxe");
  ExpectError("--menu_url='menu.ipxe'");
  absl::SetFlag(&FLAGS_menu_url, "http://a b/");
  ExpectError("--menu_url");
}

TEST_F(Flags, HttpBootUrlMustBeHttp) {
  absl::SetFlag(&FLAGS_http_boot_url, "tftp://10.0.0.1/ipxe.efi");
  ExpectError("--http_boot_url");
}

TEST_F(Flags, RejectsBadTftpServer) {
  for (const char* bad : {"10.0.0", "0.0.0.0", "255.255.255.255", "host"}) {
    absl::SetFlag(&FLAGS_tftp_server, bad);
    ExpectError(std::string("--tftp_server='") + bad + "'");
  }
}

TEST_F(Flags, RejectsBadStrategy) {
  absl::SetFlag(&FLAGS_uefi_strategy, "fast");
  ExpectError("--uefi_strategy='fast'");
}

TEST_F(Flags, RejectsOutOfRangeNumbers) {
  absl::SetFlag(&FLAGS_ipxe_priority, 200);
  ExpectError("--ipxe_priority='200'");
  absl::SetFlag(&FLAGS_ipxe_priority, 1);
  absl::SetFlag(&FLAGS_tftp_max_blksize, 7);
  ExpectError("--tftp_max_blksize='7'");
  absl::SetFlag(&FLAGS_tftp_max_blksize, 1468);
  absl::SetFlag(&FLAGS_tftp_port, 70000);
  ExpectError("--tftp_port");
}

TEST_F(Flags, RejectsMissingTftpRoot) {
  absl::SetFlag(&FLAGS_tftp_root, "/nonexistent/pxeproxy");
  ExpectError("--tftp_root='/nonexistent/pxeproxy'");
}

TEST_F(Flags, RejectsEmptyPrefixList) {
  absl::SetFlag(&FLAGS_vendor_class_prefixes, std::vector<std::string>{""});
  ExpectError("--vendor_class_prefixes");
}

TEST_F(Flags, EmptyBootFileMeansNotAnswered) {
  absl::SetFlag(&FLAGS_boot_file_bios, "");
  absl::StatusOr<Config> c = BuildConfig({"eth0"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->responder.boot_files.count(proxydhcp::BootArch::kBios));
}

TEST_F(Flags, UnreadableRulesFile) {
  absl::SetFlag(&FLAGS_mac_rules_file, "/nonexistent/rules");
  ExpectError("--mac_rules_file='/nonexistent/rules'");
}

TEST(MacRules, ParsesRulesAndComments) {
  auto rules = ParseMacRules(
      "# lab machines\n52:54:00 uefi_strategy=bypass\n\n"
      "00-11-22-33 boot_file=ipxe.efi uefi_strategy=binl  # old Dell\n",
      "rules");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].prefix_len, 3u);
  EXPECT_EQ((*rules)[0].uefi_strategy, proxydhcp::UefiStrategy::kBypass);
  EXPECT_FALSE((*rules)[0].boot_file.has_value());
  EXPECT_EQ((*rules)[1].prefix_len, 4u);
  EXPECT_EQ((*rules)[1].boot_file, "ipxe.efi");
}

TEST(MacRules, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"zz:00 boot_file=x", "rules:1: 'zz:00' is not a MAC prefix"},
      {"\n52:54 colour=red", "rules:2: unknown setting 'colour=red'"},
      {"52:54", "rules:1: a rule needs"},
      {"52:54 uefi_strategy=fast", "rules:1: --uefi_strategy='fast'"},
      {"52:54 boot_file=", "rules:1: unknown setting"},
  };
  for (const Case& c : cases) {
    auto rules = ParseMacRules(c.text, "rules");
    ASSERT_FALSE(rules.ok()) << c.text;
    EXPECT_NE(rules.status().message().find(c.error), std::string::npos)
        << rules.status().message();
  }
}

}  // namespace
}  // namespace pxeproxy
