// Path confinement: a table of hostile and ordinary names against a real
// directory tree with symlinks, a FIFO and a device node, built per test in a
// temporary directory. Also the file cache's invalidation.
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tftp/file_cache.h"
#include "tftp/path.h"

namespace tftp {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// base/root       the TFTP root
// base/allowed    an allow-listed directory (like /usr/lib/ipxe)
// base/outside    neither
class PathTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pxt-path-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    fs::path root = base_ / "root";
    WriteFile(root / "ok.bin", "ok");
    WriteFile(root / "sub/deep/file.bin", "deep");
    WriteFile(root / "...", "dots");
    fs::create_directories(root / "dir");
    WriteFile(base_ / "allowed/undionly.kpxe", "ipxe");
    WriteFile(base_ / "outside/secret", "secret");
    fs::create_symlink("ok.bin", root / "link_in");
    fs::create_symlink("../allowed/undionly.kpxe", root / "link_allowed");
    fs::create_symlink(base_ / "allowed", root / "link_allowed_dir");
    fs::create_symlink("../outside/secret", root / "link_out");
    fs::create_symlink("/etc/passwd", root / "link_abs_out");
    fs::create_symlink("/dev/null", root / "link_devnull");
    fs::create_symlink("../outside", root / "link_dir_out");
    fs::create_symlink("link_loop", root / "link_loop");
    fs::create_symlink("dir", root / "link_to_dir");
    ASSERT_EQ(mkfifo((root / "fifo").c_str(), 0644), 0);
    // A device node needs CAP_MKNOD; without it that row is skipped.
    have_dev_ =
        mknod((root / "null_dev").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
    auto p = PathPolicy::Create(root, {(base_ / "allowed").string()});
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = std::make_unique<PathPolicy>(*std::move(p));
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  bool have_dev_ = false;
  std::unique_ptr<PathPolicy> policy_;
};

struct Row {
  std::string name;
  int code;                 // -1: served; otherwise the TFTP error code
  std::string served = "";  // the file's contents when served
};

TEST_F(PathTest, Table) {
  const std::string kLong(kMaxNameLength + 1, 'a');
  const std::vector<Row> rows = {
      // Served.
      {"ok.bin", -1, "ok"},
      {"/ok.bin", -1, "ok"},  // root-relative, as tftpd-hpa -s reads it
      {"./ok.bin", -1, "ok"},
      {"sub/deep/file.bin", -1, "deep"},
      {"sub\\deep\\file.bin", -1, "deep"},  // pxelinux-style backslashes
      {"sub//deep///file.bin", -1, "deep"},
      {"link_in", -1, "ok"},
      {"link_allowed", -1, "ipxe"},  // root/x -> /usr/lib/ipxe/x style
      {"link_allowed_dir/undionly.kpxe", -1, "ipxe"},
      {"...", -1, "dots"},  // a name, not a parent directory
      // Hostile: at least 25 rows.
      {"", 2},
      {"..", 2},
      {"../outside/secret", 2},
      {"..\\outside\\secret", 2},
      {"/../outside/secret", 2},
      {"./../outside/secret", 2},
      {"sub/../../outside/secret", 2},
      {"sub/deep/../../../outside/secret", 2},
      {"sub\\deep\\..\\..\\..\\outside\\secret", 2},
      {"sub/deep/..", 2},
      {"sub/..", 2},
      {"ok.bin/..", 2},
      {"sub/deep/file.bin\\..\\..\\..\\..\\etc\\passwd", 2},
      {"/etc/passwd", 1},  // confined: root/etc/passwd does not exist
      {"\\etc\\passwd", 1},
      {"//etc//passwd", 1},
      {"%2e%2e/outside/secret", 1},  // no URL decoding
      {kLong, 2},
      {std::string(4096, '/') + "ok.bin", 2},
      {"\xff\xfe", 2},
      {"ok\xc0\xaf"
       "etc",
       2},                      // overlong UTF-8 for '/'
      {"caf\xe9.bin", 2},       // Latin-1
      {"\xed\xa0\x80.bin", 2},  // a UTF-16 surrogate
      {"ok\x01.bin", 2},
      {"ok.bin\x7f", 2},
      {"/", 2},
      {".", 2},
      {"link_out", 2},
      {"link_abs_out", 2},
      {"link_devnull", 2},
      {"link_dir_out/secret", 2},
      {"link_loop", 2},
      {"link_to_dir", 2},
      {"dir", 2},
      {"sub", 2},
      {"fifo", 2},
      {"missing.bin", 1},
      {"sub/missing/x", 1},
      {"ok.bin/x", 1},
  };
  int hostile = 0;
  FileCache cache;
  for (const Row& r : rows) {
    SCOPED_TRACE("name '" + r.name.substr(0, 64) + "'");
    absl::StatusOr<std::string> path = policy_->Resolve(r.name);
    if (r.code < 0) {
      ASSERT_TRUE(path.ok()) << path.status();
      auto data = cache.Get(*path);
      ASSERT_TRUE(data.ok()) << data.status();
      auto b = (*data)->bytes();
      EXPECT_EQ(std::string(b.begin(), b.end()), r.served);
    } else {
      ++hostile;
      EXPECT_FALSE(path.ok()) << *path;
      EXPECT_EQ(static_cast<int>(RefusalCode(path.status())), r.code)
          << path.status();
      EXPECT_FALSE(path.status().message().empty());
    }
  }
  EXPECT_GE(hostile, 25);
}

TEST_F(PathTest, DeviceNode) {
  if (!have_dev_) GTEST_SKIP() << "mknod needs CAP_MKNOD";
  absl::StatusOr<std::string> path = policy_->Resolve("null_dev");
  EXPECT_FALSE(path.ok());
  EXPECT_EQ(RefusalCode(path.status()), wire::TftpErrorCode::kAccessViolation);
}

TEST_F(PathTest, CacheRefusesFifoAndDevice) {
  FileCache cache;
  EXPECT_FALSE(cache.Get((base_ / "root/fifo").string()).ok());
  EXPECT_FALSE(
      cache.Get((base_ / "root/link_in").string()).ok());  // O_NOFOLLOW
}

TEST_F(PathTest, CacheHitsAndInvalidates) {
  FileCache cache;
  std::string p = (base_ / "root/ok.bin").string();
  auto a = cache.Get(p);
  auto b = cache.Get(p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.stats().loads, 1u);
  EXPECT_EQ(cache.stats().hits, 1u);
  // Rewritten in place (same inode, new size): read again; the old
  // reference keeps its bytes.
  WriteFile(p, "changed");
  auto c = cache.Get(p);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ((*a)->bytes().size(), 2u);
  EXPECT_EQ((*c)->bytes().size(), 7u);
  // Replaced by a new file (new inode, same size): read again.
  fs::path tmp = base_ / "root/ok.new";
  WriteFile(tmp, "CHANGED");
  fs::rename(tmp, p);
  auto d = cache.Get(p);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::string((*d)->bytes().begin(), (*d)->bytes().end()), "CHANGED");
  EXPECT_EQ(cache.stats().loads, 3u);
}

std::string ReadString(const FileData& f, uint64_t offset, size_t length) {
  std::vector<uint8_t> scratch;
  auto b = f.Read(offset, length, &scratch);
  return b.ok() ? std::string(b->begin(), b->end()) : "error";
}

// A file over the cap is never loaded: each Get opens it for reading per
// window, and the descriptor keeps the version it opened.
TEST_F(PathTest, LargeFileIsReadPerWindow) {
  FileCache cache(/*max_bytes=*/1000, /*max_file_bytes=*/10);
  std::string p = (base_ / "root/big.iso").string();
  WriteFile(p, "0123456789ABCDEF");
  auto a = cache.Get(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE((*a)->in_memory());
  EXPECT_EQ((*a)->size(), 16u);
  EXPECT_EQ(ReadString(**a, 4, 6), "456789");
  EXPECT_EQ(ReadString(**a, 16, 0), "");
  EXPECT_EQ(cache.stats().loads, 0u);
  EXPECT_EQ(cache.stats().streamed, 1u);
  EXPECT_EQ(cache.stats().bytes_in_memory, 0u);
  // Renamed over: the transfer goes on with the file it opened.
  fs::path tmp = base_ / "root/big.new";
  WriteFile(tmp, "abcdefghijklmnopqrstuvwxyz");
  fs::rename(tmp, p);
  EXPECT_EQ(ReadString(**a, 10, 6), "ABCDEF");
  auto b = cache.Get(p);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ReadString(**b, 20, 6), "uvwxyz");
  // Rewritten in place: the transfer must fail rather than mix versions.
  WriteFile(p, "short");
  EXPECT_EQ(ReadString(**b, 0, 5), "error");
}

// Loaded files, cached or held by transfers, stay under max_bytes: when
// dropping unheld entries does not make room, the file is read per window.
TEST_F(PathTest, CacheMemoryIsBounded) {
  FileCache cache(/*max_bytes=*/10, /*max_file_bytes=*/8);
  std::string a_path = (base_ / "root/a").string();
  std::string b_path = (base_ / "root/b").string();
  WriteFile(a_path, "aaaaaa");
  WriteFile(b_path, "bbbbbb");
  auto a = cache.Get(a_path);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE((*a)->in_memory());
  auto b = cache.Get(b_path);  // a is held: no room
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE((*b)->in_memory());
  EXPECT_EQ(ReadString(**b, 0, 6), "bbbbbb");
  EXPECT_EQ(cache.stats().bytes_in_memory, 6u);
  // A version replaced while a transfer holds it still counts.
  WriteFile(a_path, "AAAAAAA");
  auto a2 = cache.Get(a_path);
  ASSERT_TRUE(a2.ok());
  EXPECT_FALSE((*a2)->in_memory());
  a = absl::InternalError("released");
  b = absl::InternalError("released");
  EXPECT_EQ(cache.stats().bytes_in_memory, 0u);
  auto b2 = cache.Get(b_path);
  ASSERT_TRUE(b2.ok());
  EXPECT_TRUE((*b2)->in_memory());
  EXPECT_EQ(cache.stats().bytes_in_memory, 6u);
}

// Each refusal keeps its short reason (the ERROR packet's text and the log's)
// and its TFTP error code.
TEST_F(PathTest, RefusalReasons) {
  struct Row {
    std::string name;
    absl::StatusCode status;
    wire::TftpErrorCode code;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"missing.bin", absl::StatusCode::kNotFound,
       wire::TftpErrorCode::kNotFound, "file not found"},
      {"sub/missing/x", absl::StatusCode::kNotFound,
       wire::TftpErrorCode::kNotFound, "file not found"},
      {"link_out", absl::StatusCode::kPermissionDenied,
       wire::TftpErrorCode::kAccessViolation, "outside the tftp root"},
      {"link_abs_out", absl::StatusCode::kPermissionDenied,
       wire::TftpErrorCode::kAccessViolation, "outside the tftp root"},
      {"dir", absl::StatusCode::kPermissionDenied,
       wire::TftpErrorCode::kAccessViolation, "not a regular file"},
      {"fifo", absl::StatusCode::kPermissionDenied,
       wire::TftpErrorCode::kAccessViolation, "not a regular file"},
      {"../ok.bin", absl::StatusCode::kPermissionDenied,
       wire::TftpErrorCode::kAccessViolation, "'..' in file name"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    absl::StatusOr<OpenedFile> f = policy_->Open(r.name);
    ASSERT_FALSE(f.ok()) << f->path;
    EXPECT_EQ(f.status().code(), r.status) << f.status();
    EXPECT_EQ(RefusalCode(f.status()), r.code);
    EXPECT_EQ(f.status().message(), r.reason);
  }
}

TEST_F(PathTest, OpenGivesDescriptorAndPath) {
  absl::StatusOr<OpenedFile> f = policy_->Open("/link_in");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->path, (fs::canonical(base_) / "root/ok.bin").string());
  char buf[8] = {};
  EXPECT_EQ(pread(f->fd, buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::string(buf), "ok");
  close(f->fd);
  absl::StatusOr<std::string> resolved = policy_->Resolve("link_allowed");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved,
            (fs::canonical(base_) / "allowed/undionly.kpxe").string());
}

TEST(Normalize, Refusals) {
  struct Row {
    std::string name;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"", "empty file name"},
      {std::string(kMaxNameLength + 1, 'a'), "file name too long"},
      {"a\x01"
       "b",
       "control byte in file name"},
      {"a\x7f", "control byte in file name"},
      {"\xc0\xaf", "file name is not UTF-8"},
      {"a/../b", "'..' in file name"},
      {"..\\x", "'..' in file name"},
      {"/./", "no file in the name"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.reason);
    absl::StatusOr<std::string> n = NormalizeName(r.name);
    ASSERT_FALSE(n.ok()) << *n;
    EXPECT_TRUE(absl::IsPermissionDenied(n.status())) << n.status();
    EXPECT_EQ(RefusalCode(n.status()), wire::TftpErrorCode::kAccessViolation);
    EXPECT_EQ(n.status().message(), r.reason);
  }
  EXPECT_TRUE(NormalizeName(std::string(kMaxNameLength, 'a')).ok());
}

TEST(Normalize, Mapping) {
  absl::StatusOr<std::string> n = NormalizeName("\\boot\\\\x86/./pxelinux.0");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, "boot/x86/pxelinux.0");
}

}  // namespace
}  // namespace tftp
