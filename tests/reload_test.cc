// SIGHUP reload: flag tokens, flag files, what changed and what needs a
// restart, a reload through the real flags (refused ones change nothing),
// and the watchdog's liveness rule.
#include "reload.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "flags_internal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service.h"

namespace pxeproxy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

bool IsBool(const std::string& name) {
  return name == "tftp" || name == "tftp_single_port";
}

TEST(SplitFlagTokens, EveryFormAbseilAccepts) {
  absl::StatusOr<FlagAssignments> a = SplitFlagTokens(
      {"--flagfile=/etc/p.flags", "-menu_url=http://x/", "--tftp_port", "70",
       "eth0", "--notftp", "--tftp_single_port", "--v=1", "--", "--user=x"},
      IsBool);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(
      *a, ElementsAre(Pair("flagfile", "/etc/p.flags"),
                      Pair("menu_url", "http://x/"), Pair("tftp_port", "70"),
                      Pair("tftp", "false"), Pair("tftp_single_port", "true"),
                      Pair("v", "1")));
}

TEST(SplitFlagTokens, ValueWithEqualsSignsKept) {
  absl::StatusOr<FlagAssignments> a = SplitFlagTokens(
      {"--menu_url=http://x/b.ipxe?mac=${net0/mac}&a=b"}, IsBool);
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(
      *a, ElementsAre(Pair("menu_url", "http://x/b.ipxe?mac=${net0/mac}&a=b")));
}

TEST(SplitFlagTokens, MissingValueIsAnError) {
  absl::StatusOr<FlagAssignments> a = SplitFlagTokens({"--menu_url"}, IsBool);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              ::testing::HasSubstr("--menu_url is missing its value"));
}

TEST(FlagfileTokens, CommentsAndBlankLinesSkipped) {
  absl::StatusOr<std::vector<std::string>> t = FlagfileTokens(
      "# a comment\n\n  --menu_url=http://x/  \n#--v=1\n--notftp\n", "f");
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(*t, ElementsAre("--menu_url=http://x/", "--notftp"));
}

TEST(FlagfileTokens, StrayLineNamesFileAndLine) {
  absl::StatusOr<std::vector<std::string>> t =
      FlagfileTokens("--v=1\nmenu_url=http://x/\n", "/etc/p.flags");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              ::testing::HasSubstr("/etc/p.flags:2: 'menu_url=http://x/'"));
}

TEST(DiffFlags, NothingChanged) {
  FlagValues v = {{"menu_url", "http://x/"}, {"tftp_port", "69"}};
  FlagDiff d = DiffFlags(v, v);
  EXPECT_THAT(d.applied, IsEmpty());
  EXPECT_THAT(d.need_restart, IsEmpty());
}

TEST(DiffFlags, LiveAndRestartFlagsSeparated) {
  FlagValues running = {
      {"menu_url", "http://x/"},    {"boot_file_bios", "undionly.kpxe"},
      {"tftp_port", "69"},          {"tftp_root", "/usr/lib/ipxe"},
      {"user", "_pxeproxy"},        {"mac_rules_file", ""},
      {"tftp_max_sessions", "1000"}};
  FlagValues reloaded = running;
  reloaded["menu_url"] = "http://y/";
  reloaded["tftp_port"] = "70";
  reloaded["tftp_root"] = "/srv/tftp";
  reloaded["mac_rules_file"] = "/etc/pxeproxy/rules";
  reloaded["tftp_max_sessions"] = "10";
  FlagDiff d = DiffFlags(running, reloaded);
  EXPECT_THAT(d.applied,
              ElementsAre("mac_rules_file", "menu_url", "tftp_max_sessions"));
  EXPECT_THAT(d.need_restart, ElementsAre("tftp_port", "tftp_root"));
}

TEST(DiffFlags, FlagOnOneSideOnlyCountsAsChanged) {
  FlagDiff d = DiffFlags({{"menu_url", ""}}, {{"user", "x"}});
  EXPECT_THAT(d.applied, ElementsAre("menu_url"));
  EXPECT_THAT(d.need_restart, ElementsAre("user"));
}

TEST(NeedsRestart, SocketsUserRootLoggingYesRepliesNo) {
  for (const char* f : {"tftp", "tftp_port", "tftp_root", "tftp_symlink_allow",
                        "tftp_single_port", "tftp_listen_all", "user",
                        "logtostderr", "log_dir"}) {
    EXPECT_TRUE(NeedsRestart(f)) << f;
  }
  for (const char* f :
       {"menu_url", "boot_file_bios", "boot_file_efi_x64", "http_boot_url",
        "tftp_server", "uefi_strategy", "reverse_path", "mac_rules_file",
        "ipxe_priority", "vendor_class_prefixes", "tftp_max_blksize",
        "tftp_max_sessions", "tftp_max_sessions_per_host", "v"}) {
    EXPECT_FALSE(NeedsRestart(f)) << f;
  }
}

class ReloadFlags : public testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/pxeproxy-reload-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    flagfile_ = dir_ + "/pxeproxy.flags";
    absl::SetFlag(&FLAGS_tftp_root, "/");
  }
  void TearDown() override {
    unlink(flagfile_.c_str());
    unlink((dir_ + "/rules").c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  absl::FlagSaver saver_;
  std::string dir_, flagfile_;
};

TEST_F(ReloadFlags, NewValuesAppliedCommandLineStillWins) {
  Write(flagfile_, "--tftp_root=/\n--menu_url=http://a/\n");
  Reloader reloader(
      {"--flagfile=" + flagfile_, "--boot_file_bios=x.kpxe", "eth0"});
  Write(flagfile_,
        "--tftp_root=/\n--menu_url=http://b/\n--boot_file_bios=ignored\n");
  absl::SetFlag(&FLAGS_menu_url, "http://a/");
  absl::SetFlag(&FLAGS_boot_file_bios, "x.kpxe");
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.responder.menu_url, "http://b/");
  EXPECT_EQ(r->config.responder.boot_files.at(proxydhcp::BootArch::kBios),
            "x.kpxe");
  EXPECT_THAT(r->diff.applied, ElementsAre("menu_url"));
  EXPECT_EQ(absl::GetFlag(FLAGS_menu_url), "http://b/");
}

TEST_F(ReloadFlags, FlagRemovedFromFileReturnsToDefault) {
  Write(flagfile_, "--tftp_root=/\n");
  absl::SetFlag(&FLAGS_menu_url, "http://a/");  // as if the file had it
  Reloader reloader({"--flagfile=" + flagfile_});
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.responder.menu_url, "");
  EXPECT_THAT(r->diff.applied, ElementsAre("menu_url"));
}

TEST_F(ReloadFlags, RestartFlagKeepsRunningValueAndIsNamed) {
  Write(flagfile_, "--tftp_root=/\n--tftp_port=6969\n--tftp_single_port\n");
  Reloader reloader({"--flagfile=" + flagfile_});
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->diff.need_restart,
              ElementsAre("tftp_port", "tftp_single_port"));
  EXPECT_EQ(r->config.tftp.port, 69);
  EXPECT_FALSE(r->config.tftp.single_port);
  EXPECT_EQ(absl::GetFlag(FLAGS_tftp_port), 69);
}

TEST_F(ReloadFlags, InvalidValueRefusedAndNothingChanges) {
  absl::SetFlag(&FLAGS_menu_url, "http://a/");
  Write(flagfile_, "--tftp_root=/\n--menu_url=http://b/\n--tftp_port=x\n");
  Reloader reloader({"--flagfile=" + flagfile_});
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("--tftp_port='x'"));
  EXPECT_EQ(absl::GetFlag(FLAGS_menu_url), "http://a/");
  EXPECT_EQ(absl::GetFlag(FLAGS_tftp_root), "/");
}

TEST_F(ReloadFlags, InvalidConfigurationRefused) {
  absl::SetFlag(&FLAGS_menu_url, "http://a/");
  Write(flagfile_, "--tftp_root=/\n--menu_url=not a url\n");
  Reloader reloader({"--flagfile=" + flagfile_});
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("--menu_url"));
  EXPECT_EQ(absl::GetFlag(FLAGS_menu_url), "http://a/");
}

TEST_F(ReloadFlags, UnknownFlagAndMissingFileRefused) {
  Write(flagfile_, "--tftp_root=/\n--no_such_flag=1\n");
  Reloader unknown({"--flagfile=" + flagfile_});
  absl::StatusOr<Reloaded> r = unknown.Reload({"eth0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("unknown flag --no_such_flag"));
  Reloader missing({"--flagfile=" + dir_ + "/gone"});
  r = missing.Reload({"eth0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("cannot be read"));
}

TEST_F(ReloadFlags, MacRulesFileReadAgain) {
  Write(dir_ + "/rules", "52:54:00 boot_file=a.efi\n");
  Write(flagfile_, "--tftp_root=/\n--mac_rules_file=" + dir_ + "/rules\n");
  Reloader reloader({"--flagfile=" + flagfile_});
  ASSERT_TRUE(reloader.Reload({"eth0"}).ok());
  Write(dir_ + "/rules", "52:54:00 boot_file=a.efi\n00:11 boot_file=b.efi\n");
  absl::StatusOr<Reloaded> r = reloader.Reload({"eth0"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.responder.mac_rules.size(), 2u);
  Write(dir_ + "/rules", "zz boot_file=a.efi\n");
  r = reloader.Reload({"eth0"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(":1:"));
}

TEST(Watchdog, FedOnlyWhileEveryLoopTicks) {
  EXPECT_TRUE(LoopsAlive({0, 900}, 10000));
  EXPECT_TRUE(LoopsAlive({10000}, 10000));
  EXPECT_FALSE(LoopsAlive({100, 10001}, 10000));
  EXPECT_TRUE(LoopsAlive({}, 10000));
}

TEST(Watchdog, TickLimitHalfTheIntervalButSeveralTicks) {
  EXPECT_EQ(TickLimitMs(20000), 10000);
  EXPECT_EQ(TickLimitMs(2000), 3 * wire::Heartbeat::kTickMs);
}

}  // namespace
}  // namespace pxeproxy
