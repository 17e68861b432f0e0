// The state machine of one read transfer, sender side: values in (ACK block
// numbers, timeouts), an Action out. No sockets, no clock: the server turns
// an Action into packets and arms a timer whenever something was sent.
//
// Blocks are counted here with 64-bit absolute numbers starting at 1; the
// wire carries them modulo 65536. Large files roll over (65535 -> 0, as
// tftp-hpa, curl, atftp and iPXE expect), so an ACK's 16-bit number is mapped
// back to the one absolute block it can mean inside the outstanding window.
#ifndef PXEPROXY_TFTP_SESSION_H_
#define PXEPROXY_TFTP_SESSION_H_

#include <algorithm>
#include <cstdint>

namespace tftp {

struct SessionParams {
  uint64_t size = 0;  // bytes to send
  int blksize = 512;
  int windowsize = 1;  // RFC 7440
  bool oack = false;   // an OACK goes first and block 0 must be ACKed
  int max_retries = 5;
  int timeout_ms = 1000;  // negotiated (RFC 2349) or the server's default
  // The longest a transfer waits without progress, whatever the client
  // asked: a client-chosen timeout of 255 s must not pin a session slot for
  // an hour.
  int max_stall_ms = kMaxStallMs;
  static constexpr int kMaxStallMs = 60000;
  // Timer retransmissions while the client has not acknowledged anything:
  // the request may be spoofed, and each one sent to a victim is traffic
  // nobody asked for (docs/protocol.md "TFTP retransmission and
  // amplification"). After them the transfer
  // waits silently (kWait) for the rest of its usual retry budget, so that
  // a real client whose answers were lost still finds it when its own timer
  // resends (tftp-hpa's is 5 s): waiting costs a victim nothing, and a full
  // server evicts such transfers first (Occupancy::evictable).
  int max_retries_before_ack = kMaxRetriesBeforeAck;
  static constexpr int kMaxRetriesBeforeAck = 1;
  // A timeout resends only the first unacknowledged block, not the window:
  // with --tftp_single_port an attacker can ACK blindly (the port is 69), so
  // a window goes out only in answer to an ACK. An RFC 7440 client that lost
  // part of a window re-ACKs on its own timer and gets the window then.
  bool timeout_resends_one_block = false;
  // False for a netascii transfer, whose length only the conversion tells:
  // the sender calls SetLastBlock when it produces a short block.
  bool size_known = true;
};

struct Action {
  enum class Kind {
    kNone,      // nothing to send; the timer keeps running
    kSendOack,  // (re)send the OACK
    kSendData,  // send blocks first..last (absolute, inclusive)
    kDone,      // the last block was acknowledged
    kGiveUp,    // retries exhausted
    kWait,      // nothing to send, wait on (timer re-armed): see below
  };
  // Why nothing was sent, for counters and tests.
  enum class Ignored { kNo, kDuplicateAck, kStaleAck, kFutureAck, kFinished };

  Kind kind = Kind::kNone;
  uint64_t first = 0;
  uint64_t last = 0;
  bool retransmit = false;
  Ignored ignored = Ignored::kNo;

  static Action None(Ignored why) { return {Kind::kNone, 0, 0, false, why}; }
};

class Session {
 public:
  explicit Session(const SessionParams& p);

  // The first packets: the OACK, or the first window of DATA.
  Action Start();
  Action OnAck(uint16_t block);
  Action OnTimeout();
  // The client repeated its request (same port, same file): our answers
  // were lost. Once the transfer has gone silent (kWait, nothing heard),
  // the first answer goes again at once: a silent transfer would otherwise
  // never answer a client that keeps asking (busybox resends its RRQ). A
  // repeated request costs its sender what a new one would, so the
  // amplification is unchanged. Before that, the timer answers; once the
  // client is heard, its ACKs drive the transfer.
  Action OnRepeatedRequest();

  // The block count: size / blksize + 1, since a transfer ends with a block
  // shorter than blksize, even an empty one (RFC 1350 section 6).
  uint64_t last_block() const { return last_block_; }
  // For a transfer of unknown size: `block` turned out shorter than blksize
  // and is the last. Blocks after it that a window meant to send are not
  // sent (the caller stops there).
  void SetLastBlock(uint64_t block);
  // Whether the client has acknowledged anything yet.
  bool heard() const { return heard_; }
  // Bytes [offset, offset + length) of the file that DATA `block` carries.
  uint64_t BlockOffset(uint64_t block) const;
  uint32_t BlockLength(uint64_t block) const;
  static uint16_t WireBlock(uint64_t block) {
    return static_cast<uint16_t>(block & 0xffff);
  }
  uint64_t acked() const { return acked_; }
  int retries() const { return retries_; }
  // How long to wait for an answer to what was just sent: the timeout,
  // doubled on each consecutive timeout (RFC 1123 4.2.3.2 asks for
  // exponential backoff) up to max(timeout, 8 s), and never past the stall
  // budget. Clients such as atftp re-ACK a lost window only after their own
  // 5 s timer; a fixed 1 s x 5 retries gave up first.
  int WaitMs() const;
  // Milliseconds waited since the last progress.
  int64_t stalled_ms() const { return stalled_ms_; }
  bool finished() const { return finished_; }

 private:
  Action SendWindow(uint64_t first, bool retransmit);
  // What is unanswered, again: the OACK, or the window (one block in
  // single-port mode) after the last acknowledged block.
  Action Resend();
  void Progress(uint64_t acked);

  SessionParams p_;
  uint64_t last_block_;
  bool oack_pending_;
  uint64_t acked_ = 0;      // highest block the client acknowledged
  uint64_t sent_ = 0;       // highest block sent so far
  int retries_ = 0;         // timeouts since the last progress
  int64_t stalled_ms_ = 0;  // the sum of those timeouts' waits
  bool finished_ = false;
  bool heard_ = false;  // an ACK was accepted
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_SESSION_H_
