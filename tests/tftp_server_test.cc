// The TFTP shell over loopback: what the pure tables cannot check, packets
// really sent (no duplicate sends on duplicate ACKs), TIDs, refusals, the
// session cap, timeouts, windows of large blocks.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tftp_server_fixture.h"

namespace tftp {
namespace server_test {
namespace {

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
  // Nothing was ever acknowledged, so the request may be spoofed (hostile LAN,
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
}  // namespace server_test
}  // namespace tftp
