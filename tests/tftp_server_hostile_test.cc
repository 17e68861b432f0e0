// The TFTP shell against a hostile LAN: the per-host cap, forged transfers
// evicted for real clients, refusal log lines rate-limited.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tftp_server_fixture.h"

namespace tftp {
namespace server_test {
namespace {

// Hostile LAN, hole 4: one host holding its share of transfers gets nothing
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

// Hostile LAN review: forged RRQs (timeout=255, from several addresses, so
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
}  // namespace server_test
}  // namespace tftp
