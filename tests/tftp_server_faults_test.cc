// The TFTP shell under faults: files changing during a transfer, answers
// lost, a stop signal during transfers, netascii from a streamed file.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tftp_server_fixture.h"

namespace tftp {
namespace server_test {
namespace {

// Faults: the file changes during a transfer. Truncated in place
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

// Faults: SIGTERM during transfers. The one in flight gets its grace and
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

}  // namespace
}  // namespace server_test
}  // namespace tftp
