// tftp::Session, the sender's state machine of one transfer, driven by a
// sequence of client events decoded from the input.
//
// Input: 8 bytes of parameters (file size, blksize, windowsize, OACK,
// retries, timeout, single-port mode, netascii, i.e. a size found only when
// a short block is produced), then one event per byte (and its argument):
// an ACK of a block inside what was sent, a duplicate of the last ACK, an
// ACK of any 16-bit number, a timeout, a client ERROR (the transfer ends),
// or an ACK of the whole last window.
// Invariants after every step: DATA only for blocks 1..last block of the
// file, never more than one window past the last acknowledged block, an OACK
// only before block 0 is acknowledged, kDone only once the last block is
// acknowledged, and nothing but "ignored" after the end. Once the input is
// spent, timeouts alone end the transfer within max_retries + 1 of them, and
// the waits stay within the stall budget.
#include <algorithm>
#include <cstdint>

#include "fuzz_util.h"
#include "tftp/session.h"

namespace {

using tftp::Action;
using tftp::Session;

struct Model {
  uint64_t sent = 0;       // the highest block sent
  uint64_t acked = 0;      // the highest block acknowledged
  uint64_t true_last = 0;  // for an unknown size: the real last block
  bool oack_acked = false;
  bool done = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int kBlksizes[] = {8, 512, 1024, 1428, 1468, 65464, 9, 513};
  fuzz::Input in(data, size);
  tftp::SessionParams p;
  uint8_t b0 = in.U8();
  p.blksize = kBlksizes[b0 & 7];
  // Up to 16 MiB; with blksize 8 that is past the 16-bit rollover.
  p.size = (static_cast<uint64_t>(in.U8()) << 16 | in.U16()) >> (b0 >> 3 & 7);
  p.windowsize = 1 + in.U8() % 64;
  uint8_t f = in.U8();
  p.oack = f & 1;
  p.timeout_resends_one_block = (f >> 1) & 1;
  p.size_known = !((f >> 2) & 1);
  p.max_retries = 1 + (f >> 3) % 8;
  p.timeout_ms = 1 + in.U8() * 100;  // 1 ms .. 25.5 s
  if (in.Bool()) p.max_stall_ms = 1 + in.U8() * 500;

  Session s(p);
  Model m;
  const uint64_t file_last = p.size / p.blksize + 1;
  m.true_last = file_last;

  auto check = [&](const Action& a) {
    if (m.done) {
      FUZZ_CHECK(a.kind == Action::Kind::kNone);
      return;
    }
    FUZZ_CHECK(s.WaitMs() >= 1 && s.WaitMs() <= std::max(p.max_stall_ms, 1));
    switch (a.kind) {
      case Action::Kind::kNone:
        break;
      case Action::Kind::kWait:  // only while nothing has been heard
        FUZZ_CHECK(!s.heard());
        break;
      case Action::Kind::kSendOack:
        FUZZ_CHECK(p.oack && !m.oack_acked);
        break;
      case Action::Kind::kSendData: {
        FUZZ_CHECK(!p.oack || m.oack_acked);
        FUZZ_CHECK(a.first >= 1 && a.first <= a.last);
        FUZZ_CHECK(a.first == s.acked() + 1);
        FUZZ_CHECK(a.last - s.acked() <= static_cast<uint64_t>(p.windowsize));
        uint64_t last = a.last;
        if (!p.size_known) {
          // The server produces blocks until a short one, then says so.
          if (a.first <= m.true_last && a.last >= m.true_last) {
            s.SetLastBlock(m.true_last);
          }
          last = std::min(a.last, s.last_block());
        }
        FUZZ_CHECK(last <= file_last);  // never a block beyond the file
        FUZZ_CHECK(s.BlockOffset(a.first) <= p.size);
        for (uint64_t b = a.first; b <= last && b < a.first + 4; ++b) {
          FUZZ_CHECK(s.BlockOffset(b) + s.BlockLength(b) <= p.size);
        }
        m.sent = std::max(m.sent, last);
        break;
      }
      case Action::Kind::kDone:
        FUZZ_CHECK(s.acked() == s.last_block());
        FUZZ_CHECK(s.last_block() == file_last);
        m.done = true;
        break;
      case Action::Kind::kGiveUp:
        m.done = true;
        break;
    }
    FUZZ_CHECK(s.acked() <= m.sent || (p.oack && s.acked() == 0));
    m.acked = s.acked();
  };

  check(s.Start());
  bool client_error = false;
  while (!in.empty() && !client_error) {
    uint8_t e = in.U8();
    Action a;
    int ack = -1;  // the block number ACKed by this event, if any
    switch (e % 8) {
      case 0:
      case 1: {  // an ACK inside what was sent (the usual case)
        uint64_t span = m.sent - m.acked;
        uint64_t blk = m.acked + (span ? 1 + in.U8() % span : 0);
        if (p.oack && !m.oack_acked) blk = 0;
        ack = Session::WireBlock(blk);
        break;
      }
      case 2:  // the last ACK again
        ack = Session::WireBlock(m.acked);
        break;
      case 3:  // any block number (stale, future, wrapped)
        ack = in.U16();
        break;
      case 4:
      case 5:
        a = s.OnTimeout();
        break;
      case 6:  // ERROR from the client: the server ends the transfer
        client_error = true;
        continue;
      case 7:  // the whole window
        ack = Session::WireBlock(m.sent);
        break;
    }
    if (ack >= 0) {
      a = s.OnAck(static_cast<uint16_t>(ack));
      // RFC 2347: ACK 0 confirms the OACK; then DATA 1 may go.
      if (p.oack && !m.oack_acked && ack == 0 && !m.done) {
        FUZZ_CHECK(a.kind == Action::Kind::kSendData);
        m.oack_acked = true;
      }
    }
    check(a);
  }
  if (client_error) return 0;
  // Silence from the client: the transfer ends within max_retries + 1
  // timeouts (the retries reset only on progress).
  for (int i = 0; !m.done; ++i) {
    FUZZ_CHECK(i <= p.max_retries + 1);
    check(s.OnTimeout());
  }
  FUZZ_CHECK(s.finished());
  check(s.OnAck(Session::WireBlock(m.sent)));
  check(s.OnTimeout());
  return 0;
}
