// privdrop's decisions (Resolve) and, as root, the switch itself (Apply) in
// a forked child, so the test process keeps its privileges.
#include "privdrop.h"

#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace privdrop {
namespace {

using ::testing::HasSubstr;

TEST(ResolveTest, EmptyUserMeansStayAsWeAre) {
  absl::StatusOr<Plan> plan = Resolve("");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->kind, Plan::Kind::kNone);
}

TEST(ResolveTest, UnknownUserAsRootIsAConfigurationErrorNamingTheFlag) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<Plan> plan = Resolve("pxk-no-such-user");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("--user='pxk-no-such-user'"));
  EXPECT_THAT(plan.status().message(), HasSubstr("--user="));
}

TEST(ResolveTest, RootAsTheTargetIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<Plan> plan = Resolve("root");
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("is root"));
}

TEST(ResolveTest, RootSwitchesToAnExistingUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* pw = getpwnam("nobody");
  if (pw == nullptr) GTEST_SKIP() << "no user nobody";
  absl::StatusOr<Plan> plan = Resolve("nobody");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->kind, Plan::Kind::kSwitchUser);
  EXPECT_EQ(plan->uid, pw->pw_uid);
  EXPECT_EQ(plan->gid, pw->pw_gid);
}

TEST(ResolveTest, NotRootNeverFailsOnTheUser) {
  if (geteuid() == 0) GTEST_SKIP() << "runs only as an ordinary user";
  absl::StatusOr<Plan> plan = Resolve("pxk-no-such-user");
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->kind, Plan::Kind::kSwitchUser);
}

uint64_t StatusMask(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stoull(line.substr(key.size() + 1), nullptr, 16);
    }
  }
  return ~uint64_t{0};
}

// Exit status of the child: 0 when every expectation held, else the number
// of the first one that failed.
int ApplyInChild(const Plan& plan) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!Apply(plan).ok()) _exit(10);
    if (getuid() != plan.uid || geteuid() != plan.uid) _exit(11);
    if (getgid() != plan.gid || getegid() != plan.gid) _exit(12);
    if (setuid(0) == 0) _exit(13);
    if (StatusMask("CapEff") != KeptCapabilities()) _exit(14);
    if (StatusMask("CapPrm") != KeptCapabilities()) _exit(15);
    if (StatusMask("CapInh") != 0 || StatusMask("CapAmb") != 0) _exit(16);
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) _exit(17);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(ApplyTest, RootBecomesTheUserWithOnlyNetRaw) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<Plan> plan = Resolve("nobody");
  if (!plan.ok()) GTEST_SKIP() << "no user nobody";
  EXPECT_EQ(ApplyInChild(*plan), 0)
      << "10 Apply failed, 11 uid, 12 gid, 13 root regained, 14 CapEff, "
         "15 CapPrm, 16 CapInh/CapAmb, 17 no_new_privs";
}

TEST(ApplyTest, NothingToDoIsOk) { EXPECT_TRUE(Apply(Plan{}).ok()); }

TEST(KeptCapabilitiesTest, OnlyNetRaw) {
  EXPECT_EQ(KeptCapabilities(), uint64_t{1} << CAP_NET_RAW);
}

}  // namespace
}  // namespace privdrop
