// The TFTP session state machine, table-driven: each row is a sequence of
// events (ACK n / timeout) and the action expected after each.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tftp/session.h"

namespace tftp {
namespace {

using Kind = Action::Kind;
using Ignored = Action::Ignored;

struct Step {
  int ack;  // wire block number, or kTimeout
  Kind kind;
  uint64_t first = 0;
  uint64_t last = 0;
  Ignored ignored = Ignored::kNo;
};
constexpr int kTimeout = -1;

struct Case {
  std::string name;
  SessionParams params;
  Step start;
  std::vector<Step> steps;
};

Step Data(int ack, uint64_t first, uint64_t last) {
  return {ack, Kind::kSendData, first, last};
}
Step Ign(int ack, Ignored why) { return {ack, Kind::kNone, 0, 0, why}; }

class SessionTable : public testing::TestWithParam<Case> {};

TEST_P(SessionTable, Sequence) {
  const Case& c = GetParam();
  Session s(c.params);
  Action a = s.Start();
  EXPECT_EQ(a.kind, c.start.kind);
  EXPECT_EQ(a.first, c.start.first);
  EXPECT_EQ(a.last, c.start.last);
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const Step& st = c.steps[i];
    a = st.ack == kTimeout ? s.OnTimeout()
                           : s.OnAck(static_cast<uint16_t>(st.ack));
    SCOPED_TRACE(testing::Message() << "step " << i << " ack " << st.ack);
    EXPECT_EQ(a.kind, st.kind);
    EXPECT_EQ(a.first, st.first);
    EXPECT_EQ(a.last, st.last);
    EXPECT_EQ(a.ignored, st.ignored);
  }
}

const Step kStart1 = {0, Kind::kSendData, 1, 1};

SessionParams SinglePort(SessionParams p) {
  p.timeout_resends_one_block = true;
  return p;
}
const Step kOack = {0, Kind::kSendOack};
const Step kDone = {0, Kind::kDone};

INSTANTIATE_TEST_SUITE_P(
    Tftp, SessionTable,
    testing::Values(
        // 1025 bytes at 512: blocks of 512, 512, 1.
        Case{"lockstep",
             {1025, 512, 1, false, 5},
             kStart1,
             {Data(1, 2, 2), Data(2, 3, 3), {3, Kind::kDone}}},
        // 1024 bytes end with an empty block 3 (RFC 1350 section 6).
        Case{"exact_multiple_ends_with_empty_block",
             {1024, 512, 1, false, 5},
             kStart1,
             {Data(1, 2, 2), Data(2, 3, 3), {3, Kind::kDone}}},
        Case{"empty_file", {0, 512, 1, false, 5}, kStart1, {{1, Kind::kDone}}},
        // RFC 1123 4.2.3.1: duplicate ACKs are never answered; the timer is
        // the only thing that resends.
        Case{"duplicate_acks_send_nothing",
             {2000, 512, 1, false, 5},
             kStart1,
             {Data(1, 2, 2),
              Ign(1, Ignored::kDuplicateAck),
              Ign(1, Ignored::kDuplicateAck),
              {kTimeout, Kind::kSendData, 2, 2},
              Data(2, 3, 3),
              Ign(2, Ignored::kDuplicateAck),
              Data(3, 4, 4),
              {4, Kind::kDone}}},
        // A DATA delayed past our timeout is ACKed twice by the client: the
        // Sorcerer's Apprentice case. The second ACK must not resend 3.
        Case{"sorcerers_apprentice",
             {4000, 512, 1, false, 5},
             kStart1,
             {Data(1, 2, 2),
              {kTimeout, Kind::kSendData, 2, 2},
              Data(2, 3, 3),
              Ign(2, Ignored::kDuplicateAck),
              Data(3, 4, 4)}},
        Case{"ack_zero_without_oack_is_duplicate",
             {100, 512, 1, false, 5},
             kStart1,
             {Ign(0, Ignored::kDuplicateAck), {1, Kind::kDone}}},
        Case{"future_ack_ignored",
             {5000, 512, 1, false, 5},
             kStart1,
             {Ign(3, Ignored::kFutureAck), Data(1, 2, 2)}},
        // RFC 2347: OACK first, then block 0's ACK starts the data.
        Case{"oack_then_block0",
             {600, 512, 1, true, 5},
             kOack,
             {Ign(1, Ignored::kFutureAck),
              {kTimeout, Kind::kSendOack},
              Data(0, 1, 1),
              Ign(0, Ignored::kDuplicateAck),
              Data(1, 2, 2),
              {2, Kind::kDone}}},
        Case{"bounded_retries",
             {5000, 512, 1, false, 2},
             kStart1,
             {Data(1, 2, 2),
              {kTimeout, Kind::kSendData, 2, 2},
              {kTimeout, Kind::kSendData, 2, 2},
              {kTimeout, Kind::kGiveUp},
              Ign(2, Ignored::kFinished)}},
        // Nothing heard yet (hostile LAN, amplification): the request may be
        // spoofed, so one retransmission only; then the transfer waits
        // silently through the rest of its budget, where a real client's
        // own retransmission (tftp-hpa: 5 s) still finds it; and a late
        // ACK picks the transfer up again.
        Case{"unheard_retries_bounded",
             {5000, 512, 1, false, 5},
             kStart1,
             {{kTimeout, Kind::kSendData, 1, 1},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kGiveUp},
              Ign(1, Ignored::kFinished)}},
        Case{"unheard_oack_retries_bounded",
             {5000, 512, 4, true, 5},
             kOack,
             {{kTimeout, Kind::kSendOack},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kWait},
              {kTimeout, Kind::kGiveUp}}},
        Case{"unheard_late_ack_resumes",
             {5000, 512, 1, false, 5},
             kStart1,
             {{kTimeout, Kind::kSendData, 1, 1},
              {kTimeout, Kind::kWait},
              Data(1, 2, 2),
              {kTimeout, Kind::kSendData, 2, 2}}},
        // Single-port mode: a timeout resends one block, never the window;
        // a window goes out only in answer to an ACK.
        Case{"single_port_timeout_resends_one_block",
             SinglePort({5120, 512, 4, false, 5}),
             {0, Kind::kSendData, 1, 4},
             {Data(4, 5, 8),
              {kTimeout, Kind::kSendData, 5, 5},
              {kTimeout, Kind::kSendData, 5, 5},
              Ign(4, Ignored::kDuplicateAck),
              Data(5, 6, 9),
              Data(9, 10, 11),
              {11, Kind::kDone}}},
        Case{"retries_reset_on_progress",
             {5000, 512, 1, false, 1},
             kStart1,
             {{kTimeout, Kind::kSendData, 1, 1},
              Data(1, 2, 2),
              {kTimeout, Kind::kSendData, 2, 2},
              Data(2, 3, 3),
              {kTimeout, Kind::kSendData, 3, 3},
              {kTimeout, Kind::kGiveUp}}},
        Case{"oack_retries_bounded",
             {10, 512, 1, true, 1},
             kOack,
             {{kTimeout, Kind::kSendOack}, {kTimeout, Kind::kGiveUp}}},
        // RFC 7440: 5120 bytes at 512 = 10 full blocks + empty block 11.
        Case{"window4",
             {5120, 512, 4, false, 5},
             {0, Kind::kSendData, 1, 4},
             {Data(4, 5, 8), Data(8, 9, 11), {11, Kind::kDone}}},
        Case{"window4_partial_ack_restarts_window",
             {5120, 512, 4, false, 5},
             {0, Kind::kSendData, 1, 4},
             {Data(4, 5, 8),
              Data(6, 7, 10),
              Ign(5, Ignored::kStaleAck),
              Ign(6, Ignored::kDuplicateAck),
              Ign(12, Ignored::kFutureAck),
              {kTimeout, Kind::kSendData, 7, 10},
              Data(10, 11, 11),
              {11, Kind::kDone}}},
        // A duplicate ACK is never answered in a window either: answering
        // it (as RFC 7440 section 4 allows, for a lost first block) turned
        // one duplicated packet into every later window sent twice
        // (tests/netns/tftp_faults_test.sh). The timer resends the window.
        Case{"window4_duplicate_ack_never_answered",
             {5120, 512, 4, false, 5},
             {0, Kind::kSendData, 1, 4},
             {Data(4, 5, 8),
              Ign(4, Ignored::kDuplicateAck),
              Ign(4, Ignored::kDuplicateAck),
              {kTimeout, Kind::kSendData, 5, 8},
              Ign(4, Ignored::kDuplicateAck),
              Data(8, 9, 11),
              Ign(8, Ignored::kDuplicateAck),
              {11, Kind::kDone}}},
        // A loss inside the window is still answered at once: the ACK of
        // the block before it starts the next window there.
        Case{"window4_loss_inside_window_resends_from_there",
             {5120, 512, 4, false, 5},
             {0, Kind::kSendData, 1, 4},
             {Data(2, 3, 6),
              Data(6, 7, 10),
              Data(10, 11, 11),
              {11, Kind::kDone}}},
        // After the OACK, a repeated ACK 0 is a duplicate too.
        Case{"window_repeated_oack_ack_ignored",
             {5120, 512, 4, true, 5},
             kOack,
             {Data(0, 1, 4),
              Ign(0, Ignored::kDuplicateAck),
              {kTimeout, Kind::kSendData, 1, 4}}},
        Case{"window_larger_than_file",
             {1000, 512, 16, true, 5},
             kOack,
             {Data(0, 1, 2), Data(1, 2, 2), {2, Kind::kDone}}}),
    [](const testing::TestParamInfo<Case>& i) { return i.param.name; });

// Walks a whole transfer, ACKing each window's last block by its 16-bit
// wire number, and checks every block's number and size on the way.
void RunToEnd(uint64_t size, int blksize, int window) {
  Session s({size, blksize, window, false, 5});
  Action a = s.Start();
  uint64_t blocks_seen = 0;
  while (a.kind == Kind::kSendData) {
    for (uint64_t b = a.first; b <= a.last; ++b) {
      ASSERT_EQ(b, blocks_seen + 1);
      ++blocks_seen;
      EXPECT_EQ(s.BlockOffset(b), (b - 1) * blksize);
    }
    a = s.OnAck(Session::WireBlock(a.last));
  }
  EXPECT_EQ(a.kind, Kind::kDone);
  EXPECT_EQ(blocks_seen, size / blksize + 1);
  EXPECT_EQ(s.BlockLength(s.last_block()), size % blksize);
}

// 40 MiB at 512-byte blocks is 81921 blocks: the wire number passes 65535,
// goes to 0 and counts up again.
// A silent unanswered transfer answers a repeated RRQ (the client is alive
// and lost our packets: busybox resends its RRQ, and a silent transfer
// never answered it); before going silent, and once heard, it does not.
TEST(Session, RepeatedRequestAnsweredOnlyWhenSilent) {
  Session s({5000, 512, 1, false, 5});
  s.Start();
  EXPECT_EQ(s.OnRepeatedRequest().kind, Kind::kNone);  // the timer answers
  EXPECT_EQ(s.OnTimeout().kind, Kind::kSendData);
  EXPECT_EQ(s.OnTimeout().kind, Kind::kWait);
  Action a = s.OnRepeatedRequest();
  EXPECT_EQ(a.kind, Kind::kSendData);
  EXPECT_EQ(a.first, 1u);
  EXPECT_EQ(s.OnAck(1).kind, Kind::kSendData);
  EXPECT_EQ(s.OnRepeatedRequest().kind, Kind::kNone);  // heard
}

TEST(Session, RolloverLockstep) { RunToEnd(40ull << 20, 512, 1); }
TEST(Session, RolloverWindowed) { RunToEnd((40ull << 20) + 7, 512, 7); }
TEST(Session, RolloverLargeWindow) { RunToEnd(64ull << 20, 512, 65535); }
TEST(Session, SmallBlocks) { RunToEnd(1000, 8, 3); }

TEST(Session, WireNumbersAcrossRollover) {
  EXPECT_EQ(Session::WireBlock(65535), 65535);
  EXPECT_EQ(Session::WireBlock(65536), 0);
  EXPECT_EQ(Session::WireBlock(65537), 1);
}

TEST(Session, AckZeroAfterRolloverMeansBlock65536) {
  Session s({70000ull * 512, 512, 1, false, 5});
  Action a = s.Start();
  for (int b = 1; b <= 65535; ++b) a = s.OnAck(static_cast<uint16_t>(b));
  ASSERT_EQ(a.kind, Kind::kSendData);
  EXPECT_EQ(a.first, 65536u);
  a = s.OnAck(0);
  EXPECT_EQ(a.first, 65537u);
  // A stale ACK 65535 from before the wrap is not mistaken for progress.
  EXPECT_EQ(s.OnAck(65535).ignored, Ignored::kStaleAck);
  EXPECT_EQ(s.acked(), 65536u);
}

// Waits after each consecutive timeout, and whether the session is still
// alive after it.
struct BackoffCase {
  std::string name;
  int timeout_ms;
  int max_retries;
  std::vector<int> waits;  // the first wait, then one per timeout
};

class Backoff : public testing::TestWithParam<BackoffCase> {};

TEST_P(Backoff, WaitsThenGivesUp) {
  const BackoffCase& c = GetParam();
  SessionParams p{5000, 512, 1, false, c.max_retries, c.timeout_ms};
  Session s(p);
  s.Start();
  s.OnAck(1);  // heard: the full retry budget (unheard_retries_bounded)
  int64_t total = 0;
  for (size_t i = 0; i < c.waits.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "wait " << i);
    EXPECT_EQ(s.WaitMs(), c.waits[i]);
    total += s.WaitMs();
    Action a = s.OnTimeout();
    EXPECT_EQ(a.kind,
              i + 1 == c.waits.size() ? Kind::kGiveUp : Kind::kSendData);
  }
  EXPECT_EQ(s.stalled_ms(), total);
  EXPECT_LE(total, SessionParams::kMaxStallMs);
}

INSTANTIATE_TEST_SUITE_P(
    Tftp, Backoff,
    testing::Values(
        // The default: doubling up to 8 s, bounded by the retry count.
        BackoffCase{"default", 1000, 5, {1000, 2000, 4000, 8000, 8000, 8000}},
        // A client asking timeout=255 (RFC 2349) waits half the stall budget
        // twice (one retransmission), instead of 255 x (1+2+4+8+8+8) s.
        BackoffCase{"client_timeout_255", 255000, 5, {30000, 30000}},
        BackoffCase{"client_timeout_60", 60000, 5, {30000, 30000}},
        // Above 8 s a timeout is not doubled; the budget ends it.
        BackoffCase{"client_timeout_20", 20000, 5, {20000, 20000, 20000}},
        BackoffCase{"client_timeout_25", 25000, 5, {25000, 25000, 10000}},
        BackoffCase{"short", 100, 2, {100, 200, 400}}),
    [](const testing::TestParamInfo<BackoffCase>& i) { return i.param.name; });

TEST(Session, BackoffResetsOnProgress) {
  Session s({5000, 512, 1, false, 10});
  s.Start();
  s.OnAck(1);
  s.OnTimeout();
  s.OnTimeout();
  EXPECT_EQ(s.WaitMs(), 4000);
  EXPECT_EQ(s.stalled_ms(), 3000);
  s.OnAck(2);
  EXPECT_EQ(s.WaitMs(), 1000);
  EXPECT_EQ(s.stalled_ms(), 0);
}

// netascii: the length is known only when the conversion produces a short
// block; the window that was meant to go past it stops there.
TEST(Session, UnknownSizeEndsAtTheShortBlock) {
  SessionParams p{0, 512, 4, false, 5};
  p.size_known = false;
  Session s(p);
  Action a = s.Start();
  EXPECT_EQ(a.first, 1u);
  EXPECT_EQ(a.last, 4u);
  s.SetLastBlock(2);  // block 2 came out short
  EXPECT_EQ(s.last_block(), 2u);
  Action b = s.OnAck(2);
  EXPECT_EQ(b.kind, Kind::kDone);
}

TEST(Session, BlockLengths) {
  Session s({1300, 512, 1, false, 5});
  EXPECT_EQ(s.last_block(), 3u);
  EXPECT_EQ(s.BlockLength(1), 512u);
  EXPECT_EQ(s.BlockLength(2), 512u);
  EXPECT_EQ(s.BlockLength(3), 276u);
}

}  // namespace
}  // namespace tftp
