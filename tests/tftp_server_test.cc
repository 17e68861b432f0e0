// The TFTP shell over loopback: a real tftp::Server in a thread, a test
// socket as the client. Checks what the pure tables cannot: packets really
// sent (no duplicate sends on duplicate ACKs), TIDs, refusals, the session
// cap, timeouts. Needs no root; every wait is bounded.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "glog/logging.h"
#include "gtest/gtest.h"
#include "tftp/server.h"
#include "wire/tftp_packet.h"

namespace tftp {
namespace {

namespace fs = std::filesystem;

struct Reply {
  std::vector<uint8_t> bytes;
  uint16_t port = 0;
  uint16_t opcode() const { return bytes.size() < 2 ? 0 : bytes[1]; }
  uint16_t u16(size_t at) const {
    return bytes.size() < at + 2 ? 0 : bytes[at] << 8 | bytes[at + 1];
  }
};

class Client {
 public:
  // Any 127/8 address is local: 127.0.0.2 is another host to the server.
  explicit Client(uint32_t address = INADDR_LOOPBACK) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(address);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  ~Client() { close(fd_); }
  void Send(uint16_t port, const std::vector<uint8_t>& b) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&sa),
           sizeof(sa));
  }
  std::optional<Reply> Receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    Reply r;
    r.bytes.resize(70000);
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    ssize_t n = recvfrom(fd_, r.bytes.data(), r.bytes.size(), 0,
                         reinterpret_cast<sockaddr*>(&sa), &len);
    if (n < 0) return std::nullopt;
    r.bytes.resize(n);
    r.port = ntohs(sa.sin_port);
    return r;
  }

 private:
  int fd_;
};

std::vector<uint8_t> Rrq(const std::string& name,
                         std::vector<std::string> options = {},
                         uint16_t opcode = 1,
                         const std::string& mode = "octet") {
  std::vector<uint8_t> b = {0, static_cast<uint8_t>(opcode)};
  std::vector<std::string> parts = {name, mode};
  parts.insert(parts.end(), options.begin(), options.end());
  for (const std::string& s : parts) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  return b;
}

// 20000 bytes of lines, CR LF pairs and lone CRs: its netascii form is
// longer, and block boundaries fall inside CR LF and CR NUL pairs.
std::string Text() {
  std::string s;
  for (int i = 0; s.size() < 20000; ++i) {
    s += std::string(i % 7, 'a') + (i % 3 == 0   ? "\r\n"
                                    : i % 3 == 1 ? "\n"
                                                 : "\r");
  }
  return s;
}

class ServerTest : public testing::Test {
 protected:
  void Start(int max_sessions = 10, int timeout_ms = 1000,
             uint64_t max_cached_file_bytes = 64ull << 20,
             int max_sessions_per_host = 32) {
    char tmpl[] = "/tmp/pxt-server-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "f1000") << std::string(1000, 'x');
    std::ofstream(dir_ / "f200k") << std::string(200000, 'y');
    std::ofstream(dir_ / "text") << Text();
    Config c;
    c.root = dir_;
    c.symlink_allow = {};
    c.port = 0;  // an ephemeral port: tests run in parallel
    c.max_sessions = max_sessions;
    c.max_sessions_per_host = max_sessions_per_host;
    c.timeout_ms = timeout_ms;
    c.max_retries = 2;
    c.max_cached_file_bytes = max_cached_file_bytes;
    c.virtual_files["menu.ipxe"] = "#!ipxe\n";
    c.stop_grace_ms = stop_grace_ms_;
    auto s = Server::Create(c);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    port_ = server_->port();
    stop_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { server_->Run(stop_); });
  }
  // Stops the loop; counters may be read afterwards.
  void Stop() {
    uint64_t one = 1;
    ASSERT_EQ(write(stop_, &one, sizeof(one)), 8);
    thread_.join();
  }
  void TearDown() override {
    if (thread_.joinable()) Stop();
    if (stop_ >= 0) close(stop_);
    fs::remove_all(dir_);
  }
  uint64_t Dropped(const std::string& why) {
    auto it = server_->counters().dropped.find(why);
    return it == server_->counters().dropped.end() ? 0 : it->second;
  }

  // Most tests stop with transfers left hanging on purpose: no grace.
  int stop_grace_ms_ = 0;
  fs::path dir_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  int stop_ = -1;
  std::thread thread_;
};

TEST_F(ServerTest, DuplicateAckSendsNothingAndStrangerGetsError5) {
  Start();
  Client c;
  c.Send(port_, Rrq("f1000"));
  auto d1 = c.Receive();
  ASSERT_TRUE(d1);
  EXPECT_NE(d1->port, port_);  // a fresh TID
  EXPECT_EQ(d1->opcode(), 3);
  EXPECT_EQ(d1->u16(2), 1);
  EXPECT_EQ(d1->bytes.size(), 4u + 512);
  c.Send(d1->port, wire::BuildTftpAck(1));
  c.Send(d1->port, wire::BuildTftpAck(1));  // duplicate
  auto d2 = c.Receive();
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->u16(2), 2);
  EXPECT_EQ(d2->bytes.size(), 4u + 488);
  EXPECT_FALSE(c.Receive(300)) << "a duplicate ACK caused a send";
  Client stranger;
  stranger.Send(d1->port, wire::BuildTftpAck(2));
  auto e = stranger.Receive();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->opcode(), 5);
  EXPECT_EQ(e->u16(2), 5);
  c.Send(d1->port, wire::BuildTftpAck(2));  // the transfer went on
  EXPECT_FALSE(c.Receive(200));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
  EXPECT_EQ(Dropped("duplicate_ack"), 1u);
  EXPECT_EQ(Dropped("unknown_tid"), 1u);
}

TEST_F(ServerTest, OackBlockZeroAndVirtualFile) {
  Start();
  Client c;
  c.Send(port_, Rrq("/menu.ipxe", {"tsize", "0", "blksize", "1400"}));
  auto o = c.Receive();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->bytes,
            wire::BuildTftpOack({{"tsize", "7"}, {"blksize", "1400"}}));
  c.Send(o->port, wire::BuildTftpAck(0));
  auto d = c.Receive();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->bytes,
            wire::BuildTftpData(
                1, {reinterpret_cast<const uint8_t*>("#!ipxe\n"), 7}));
  c.Send(o->port, wire::BuildTftpAck(1));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
}

TEST_F(ServerTest, Refusals) {
  Start();
  Client c;
  struct Row {
    std::vector<uint8_t> packet;
    int code;
  } rows[] = {
      {Rrq("f1000", {}, 2), 2},                    // WRQ
      {Rrq("../f1000"), 2},                        // traversal
      {Rrq("missing"), 1},                         // not found
      {Rrq("f1000", {"blksize", "4"}), 8},         // bad option
      {Rrq("f1000", {"windowsize", "x"}), 8},      // bad option
      {wire::BuildTftpAck(1), 5},                  // no such transfer
      {{0, 1, 'f', 0, 'm', 'a', 'i', 'l', 0}, 4},  // mode mail
      {{0, 1, 'f', 0}, 4},                         // truncated request
  };
  for (const Row& r : rows) {
    c.Send(port_, r.packet);
    auto e = c.Receive();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->opcode(), 5);
    EXPECT_EQ(e->u16(2), r.code);
    EXPECT_EQ(e->port, port_);
  }
  // Garbage is dropped and counted, and the server still serves.
  c.Send(port_, {0});
  c.Send(port_, {0, 9, 1, 2});
  c.Send(port_, wire::BuildTftpError(wire::TftpErrorCode::kNotFound,
                                     "x"));  // never answered
  EXPECT_FALSE(c.Receive(200));
  c.Send(port_, Rrq("f1000"));
  auto d = c.Receive();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->opcode(), 3);
  Stop();
  EXPECT_EQ(Dropped("malformed"), 2u);
  EXPECT_EQ(Dropped("stray_error"), 1u);
}

TEST_F(ServerTest, SessionCapDropsSilentlyAndDuplicateRrq) {
  Start(/*max_sessions=*/2);
  Client a, b, c;
  a.Send(port_, Rrq("f1000"));
  a.Send(port_, Rrq("f1000"));  // a retransmitted RRQ: one transfer only
  auto a1 = a.Receive();
  ASSERT_TRUE(a1);
  EXPECT_FALSE(a.Receive(200));
  b.Send(port_, Rrq("f1000"));
  ASSERT_TRUE(b.Receive());
  // Full: no ERROR, which EDK2 and iPXE would take as the end of the boot.
  c.Send(port_, Rrq("f1000"));
  EXPECT_FALSE(c.Receive(300)) << "a busy server answered";
  // a finishes; the client's own retransmission then gets a slot.
  a.Send(a1->port, wire::BuildTftpAck(1));
  ASSERT_TRUE(a.Receive());
  a.Send(a1->port, wire::BuildTftpAck(2));
  auto c1 = [&] {
    for (int i = 0; i < 20; ++i) {
      c.Send(port_, Rrq("f1000"));
      if (auto r = c.Receive(100)) return r;
    }
    return std::optional<Reply>();
  }();
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->opcode(), 3);
  EXPECT_EQ(c1->u16(2), 1);
  Stop();
  EXPECT_EQ(Dropped("duplicate_rrq"), 1u);
  EXPECT_GE(Dropped("max_sessions"), 1u);
  EXPECT_EQ(server_->counters().refused.count("max_sessions"), 0u);
}

TEST_F(ServerTest, AnotherFileFromTheSamePortReplacesTheTransfer) {
  Start();
  Client a;
  a.Send(port_, Rrq("f200k"));
  auto first = a.Receive();
  ASSERT_TRUE(first);
  // The client gave up on f200k and asks for another file from the same
  // port: it is served at once, not refused until the old timer runs out.
  a.Send(port_, Rrq("f1000"));
  std::optional<Reply> r;
  for (int i = 0; i < 5; ++i) {
    r = a.Receive(500);
    if (!r || r->port != first->port) break;  // late retransmits of f200k
  }
  ASSERT_TRUE(r) << "the second request was not answered";
  EXPECT_EQ(r->opcode(), 3);
  EXPECT_EQ(r->bytes.size(), 4u + 512);
  Stop();
  EXPECT_EQ(Dropped("duplicate_rrq"), 0u);
}

TEST_F(ServerTest, BoundedRetransmission) {
  Start(10, /*timeout_ms=*/100);
  Client c;
  c.Send(port_, Rrq("f1000"));
  int data1 = 0;
  while (auto r = c.Receive(1000)) {
    EXPECT_EQ(r->u16(2), 1);
    ++data1;
  }
  // Nothing was ever acknowledged, so the request may be spoofed (issue 9,
  // amplification): the first send and one resend 100 ms later, not
  // max_retries = 2; the transfer is given up 200 ms after it.
  EXPECT_EQ(data1, 2);
  Stop();
  EXPECT_EQ(server_->counters().transfers_failed, 1u);
  EXPECT_EQ(server_->counters().retransmits, 1u);
}

// Loopback's MTU (65536) allows the largest blocks; a window of them must
// still go out (GSO can carry at most one such block per call).
TEST_F(ServerTest, WindowOfLargestBlocks) {
  Start();
  Client c;
  c.Send(port_, Rrq("f200k", {"blksize", "65464", "windowsize", "4"}));
  auto o = c.Receive();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->bytes,
            wire::BuildTftpOack({{"blksize", "65464"}, {"windowsize", "4"}}));
  c.Send(o->port, wire::BuildTftpAck(0));
  size_t total = 0;
  for (int block = 1; block <= 4; ++block) {
    auto d = c.Receive();
    ASSERT_TRUE(d) << "block " << block;
    EXPECT_EQ(d->u16(2), block);
    total += d->bytes.size() - 4;
  }
  EXPECT_EQ(total, 200000u);
  c.Send(o->port, wire::BuildTftpAck(4));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
}

TEST_F(ServerTest, WindowWithGsoSizedBlocks) {
  Start();
  Client c;
  c.Send(port_, Rrq("f200k", {"blksize", "1400", "windowsize", "64"}));
  auto o = c.Receive();
  ASSERT_TRUE(o);
  c.Send(o->port, wire::BuildTftpAck(0));
  for (int block = 1; block <= 64; ++block) {
    auto d = c.Receive();
    ASSERT_TRUE(d) << "block " << block;
    EXPECT_EQ(d->u16(2), block);
    EXPECT_EQ(d->bytes.size(), 1404u);
  }
}

// A file over the cache cap is read per window from its own descriptor and
// arrives whole.
TEST_F(ServerTest, LargeFileReadPerWindow) {
  Start(10, 1000, /*max_cached_file_bytes=*/1000);
  Client c;
  c.Send(port_, Rrq("f200k", {"blksize", "1400", "windowsize", "16"}));
  auto o = c.Receive();
  ASSERT_TRUE(o);
  c.Send(o->port, wire::BuildTftpAck(0));
  std::string got;
  for (int block = 1; block <= 143; ++block) {
    auto d = c.Receive();
    ASSERT_TRUE(d) << "block " << block;
    ASSERT_EQ(d->u16(2), block);
    got.append(d->bytes.begin() + 4, d->bytes.end());
    if (block % 16 == 0 || block == 143)
      c.Send(o->port, wire::BuildTftpAck(block));
  }
  EXPECT_EQ(got, std::string(200000, 'y'));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
  EXPECT_EQ(server_->cache_stats().streamed, 1u);
  EXPECT_EQ(server_->cache_stats().loads, 0u);
}

TEST_F(ServerTest, ClientErrorEndsTransfer) {
  Start();
  Client c;
  c.Send(port_, Rrq("f1000", {"tsize", "0"}));
  auto o = c.Receive();
  ASSERT_TRUE(o);
  // PXE ROMs learn the size this way, then abort with ERROR 8.
  c.Send(o->port,
         wire::BuildTftpError(wire::TftpErrorCode::kBadOptions, "tsize only"));
  EXPECT_FALSE(c.Receive(300));
  Stop();
  EXPECT_EQ(server_->counters().transfers_failed, 1u);
}

}  // namespace
}  // namespace tftp

namespace tftp {
namespace {

// Issue 9, hole 4: one host holding its share of transfers gets nothing
// more (silently, like a full server), while another host is served at once.
TEST_F(ServerTest, PerHostCapLeavesRoomForOtherHosts) {
  Start(/*max_sessions=*/10, 1000, 64ull << 20, /*max_sessions_per_host=*/3);
  std::vector<std::unique_ptr<Client>> flood;
  for (int i = 0; i < 6; ++i) {
    flood.push_back(std::make_unique<Client>());
    flood.back()->Send(port_, Rrq("f200k", {"timeout", "255"}));
  }
  int answered = 0;
  for (auto& c : flood) answered += c->Receive(300).has_value();
  EXPECT_EQ(answered, 3);
  Client other(0x7f000002);  // 127.0.0.2
  other.Send(port_, Rrq("f1000"));
  auto d = other.Receive();
  ASSERT_TRUE(d) << "another host was not served";
  EXPECT_EQ(d->opcode(), 3);
  Stop();
  EXPECT_EQ(Dropped("max_sessions_per_host"), 3u);
  EXPECT_EQ(Dropped("max_sessions"), 0u);
}

// Review of issue 9: forged RRQs (timeout=255, from several addresses, so
// the per-host cap does not stop them) fill the server; their clients never
// answer. After a second, a real client's RRQ ends the oldest of them and is
// served; a transfer whose client answers is never evicted.
TEST_F(ServerTest, FullServerEvictsForgedTransfersNotRealOnes) {
  Start(/*max_sessions=*/3, 1000, 64ull << 20, /*max_sessions_per_host=*/2);
  Client real1, forged1(0x7f000003), forged2(0x7f000004);
  real1.Send(port_, Rrq("f200k"));
  auto r1 = real1.Receive();
  ASSERT_TRUE(r1);
  real1.Send(r1->port, wire::BuildTftpAck(1));  // heard: never evicted
  ASSERT_TRUE(real1.Receive());
  forged1.Send(port_, Rrq("f200k", {"timeout", "255"}));
  forged2.Send(port_, Rrq("f200k", {"timeout", "255"}));
  ASSERT_TRUE(forged1.Receive());
  ASSERT_TRUE(forged2.Receive());
  Client newcomer(0x7f000005);
  newcomer.Send(port_, Rrq("f1000"));
  EXPECT_FALSE(newcomer.Receive(300)) << "full, nothing a second old yet";
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  newcomer.Send(port_, Rrq("f1000"));
  auto n = newcomer.Receive();
  ASSERT_TRUE(n) << "a forged transfer kept the real client out";
  EXPECT_EQ(n->opcode(), 3);
  // The heard transfer goes on: block 3 answers its next ACK (block 2 may
  // have been sent again meanwhile: its ACK was a second late).
  real1.Send(r1->port, wire::BuildTftpAck(2));
  bool block3 = false;
  for (int i = 0; i < 3 && !block3; ++i) {
    auto b = real1.Receive();
    if (!b) break;
    block3 = b->opcode() == 3 && b->u16(2) == 3;
  }
  EXPECT_TRUE(block3) << "the transfer whose client answered was evicted";
  Stop();
  EXPECT_EQ(Dropped("evicted_unheard"), 1u);
  EXPECT_EQ(Dropped("max_sessions"), 1u);
}

// Issue 10, faults: the file changes during a transfer. Truncated in place
// (`cp new.efi root/` does that): an ERROR, never a short last block that
// would pass for a complete, smaller file. Replaced by rename: the transfer
// goes on with the file it opened, never a mix of the two.
TEST_F(ServerTest, FileTruncatedDuringTransferEndsWithAnError) {
  Start(10, 1000, /*max_cached_file_bytes=*/1000);  // f200k read per window
  Client c;
  c.Send(port_, Rrq("f200k"));
  auto d1 = c.Receive();
  ASSERT_TRUE(d1);
  ASSERT_EQ(d1->opcode(), 3);
  fs::resize_file(dir_ / "f200k", 700);
  c.Send(d1->port, wire::BuildTftpAck(1));
  auto r = c.Receive();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->opcode(), 5) << "a short DATA block would end the file early";
  Stop();
  EXPECT_EQ(server_->counters().transfers_failed, 1u);
}

TEST_F(ServerTest, FileReplacedDuringTransferIsNeverMixed) {
  for (uint64_t cache_limit : {uint64_t{1000}, uint64_t{64} << 20}) {
    SCOPED_TRACE(cache_limit == 1000 ? "read per window" : "cached");
    Start(10, 1000, cache_limit);
    Client c;
    c.Send(port_, Rrq("f200k", {"blksize", "8192"}));
    auto o = c.Receive();  // OACK
    ASSERT_TRUE(o);
    std::string got;
    uint16_t block = 0;
    bool replaced = false;
    for (;;) {
      c.Send(o->port, wire::BuildTftpAck(block));
      auto d = c.Receive();
      ASSERT_TRUE(d);
      ASSERT_EQ(d->opcode(), 3) << "block " << block + 1;
      block = d->u16(2);
      got.append(d->bytes.begin() + 4, d->bytes.end());
      if (!replaced) {  // after the first block: a new version, renamed in
        std::ofstream(dir_ / "new") << std::string(200000, 'z');
        fs::rename(dir_ / "new", dir_ / "f200k");
        replaced = true;
      }
      if (d->bytes.size() - 4 < 8192) break;
    }
    c.Send(o->port, wire::BuildTftpAck(block));
    EXPECT_EQ(got, std::string(200000, 'y'));
    Stop();
    TearDown();
    stop_ = -1;  // closed: the fixture's TearDown must not close it again
  }
}

// A client whose answers were all lost repeats its RRQ (busybox does): a
// transfer that went silent (one retransmission, nothing heard) sends its
// first block again for it, and the download completes.
TEST_F(ServerTest, SilentTransferAnswersTheRepeatedRequest) {
  // Waits of 300 and 600 ms: silent from 0.9 s, given up at 2.1 s (two
  // retries); the repeated request comes at about 1.1 s.
  Start(10, /*timeout_ms=*/300);
  Client c;
  c.Send(port_, Rrq("f1000"));
  auto d1 = c.Receive();
  ASSERT_TRUE(d1);
  ASSERT_TRUE(c.Receive(1000)) << "the one timer retransmission";
  EXPECT_FALSE(c.Receive(800)) << "silent after it";
  c.Send(port_, Rrq("f1000"));  // the same port: a repeated request
  auto again = c.Receive(500);
  ASSERT_TRUE(again) << "the repeated request went unanswered";
  EXPECT_EQ(again->opcode(), 3);
  EXPECT_EQ(again->u16(2), 1);
  c.Send(d1->port, wire::BuildTftpAck(1));
  auto d2 = c.Receive();
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->u16(2), 2);
  c.Send(d1->port, wire::BuildTftpAck(2));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
}

// Issue 10: SIGTERM during transfers. The one in flight gets its grace and
// completes; a request that comes meanwhile is dropped; the loop ends as
// soon as nothing is left, and what the grace cannot finish is cut off.
TEST_F(ServerTest, StopLetsTransfersInFlightFinish) {
  stop_grace_ms_ = 3000;
  Start();
  Client a, late(0x7f000002);
  a.Send(port_, Rrq("f1000"));
  auto d1 = a.Receive();
  ASSERT_TRUE(d1);
  uint64_t one = 1;
  ASSERT_EQ(write(stop_, &one, sizeof(one)), 8);  // SIGTERM, in effect
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  late.Send(port_, Rrq("f1000"));
  EXPECT_FALSE(late.Receive(300)) << "a new transfer started while stopping";
  a.Send(d1->port, wire::BuildTftpAck(1));
  auto d2 = a.Receive();
  ASSERT_TRUE(d2) << "the transfer in flight was cut off";
  EXPECT_EQ(d2->u16(2), 2);
  a.Send(d1->port,
         wire::BuildTftpAck(2));  // the last block: done, the loop ends
  thread_.join();
  EXPECT_EQ(server_->counters().transfers_done, 1u);
  EXPECT_EQ(Dropped("stopping"), 1u);
}

TEST_F(ServerTest, StopCutsOffWhatTheGraceCannotFinish) {
  stop_grace_ms_ = 300;
  Start();
  Client a;
  a.Send(port_, Rrq("f200k", {"timeout", "255"}));
  ASSERT_TRUE(a.Receive());
  Stop();  // the client never answers: cut off when the grace ends
  EXPECT_EQ(server_->counters().transfers_failed, 1u);
}

// Downloads `name` in netascii with `options`, ACKing each window, and once
// re-ACKing inside a window (RFC 7440: the client lost a block) so part of
// it is converted and sent again.
std::string NetasciiDownload(Client& c, uint16_t port, const std::string& name,
                             std::vector<std::string> options, int window) {
  c.Send(port, Rrq(name, options, 1, "netascii"));
  std::string got;
  uint16_t tid = 0;
  uint16_t expect = 1;
  bool resent = false;
  int in_window = 0;
  if (!options.empty()) {
    auto o = c.Receive();
    if (!o || o->opcode() != 6) return "no OACK";
    tid = o->port;
    c.Send(tid, wire::BuildTftpAck(0));
  }
  while (true) {
    auto d = c.Receive();
    if (!d || d->opcode() != 3) return got + "<no DATA>";
    tid = d->port;
    if (d->u16(2) != expect) continue;  // a resent block already held
    size_t n = d->bytes.size() - 4;
    got.append(d->bytes.begin() + 4, d->bytes.end());
    ++expect, ++in_window;
    bool last = n < 512;
    if (!resent && expect == 3 && window > 2) {
      // Pretend block 2 was lost: ACK 1, drop what else the window holds.
      resent = true;
      got.resize(got.size() - n);
      --expect;
      while (c.Receive(200)) {
      }
      c.Send(tid, wire::BuildTftpAck(1));
      in_window = 0;
      continue;
    }
    if (last || in_window == window) {
      c.Send(tid, wire::BuildTftpAck(static_cast<uint16_t>(expect - 1)));
      in_window = 0;
    }
    if (last) return got;
  }
}

std::string Netascii(const std::string& s) { return wire::ToNetascii(s); }

// Hole 5: netascii is converted per block as it is sent, from the file read
// per window too (a file over the cache cap was refused before), and the
// bytes equal the whole-file conversion across windows and resends.
TEST_F(ServerTest, NetasciiPerBlockFromAStreamedFile) {
  Start(10, 1000, /*max_cached_file_bytes=*/1000);
  Client a, b;
  EXPECT_EQ(NetasciiDownload(a, port_, "text", {}, 1), Netascii(Text()));
  EXPECT_EQ(
      NetasciiDownload(b, port_, "text", {"windowsize", "8", "tsize", "0"}, 8),
      Netascii(Text()));
  Stop();
  EXPECT_EQ(server_->counters().transfers_done, 2u);
  EXPECT_EQ(server_->cache_stats().loads, 0u);  // no copy in memory
}

class CountingSink : public google::LogSink {
 public:
  void send(google::LogSeverity, const char*, const char*, int,
            const google::LogMessageTime&, const char* message,
            size_t size) override {
    std::string m(message, size);
    if (m.find("tftp: refused") != std::string::npos) ++refused;
  }
  std::atomic<int> refused{0};
};

// Hole 8: a flood of hostile requests writes one log line per reason per
// interval, and the counter stays exact.
TEST_F(ServerTest, RefusalLogIsRateLimited) {
  int v = FLAGS_v;
  FLAGS_v = 1;
  CountingSink sink;
  google::AddLogSink(&sink);
  Start();
  Client c;
  for (int i = 0; i < 200; ++i) {
    c.Send(port_, Rrq("f1000", {}, /*opcode=*/2));  // WRQ
    ASSERT_TRUE(c.Receive());
  }
  Stop();
  google::RemoveLogSink(&sink);
  FLAGS_v = v;
  EXPECT_EQ(server_->counters().refused.at("write_request"), 200u);
  EXPECT_LE(sink.refused.load(), 2);
  EXPECT_GE(sink.refused.load(), 1);
}

}  // namespace
}  // namespace tftp
