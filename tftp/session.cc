#include "tftp/session.h"

#include <algorithm>

namespace tftp {
namespace {

// Backoff stops doubling here (or at the timeout itself, if longer).
constexpr int64_t kMaxBackoffMs = 8000;
// Block numbers are 64-bit here; no file reaches this many blocks.
constexpr uint64_t kUnknownLastBlock = uint64_t{1} << 62;

}  // namespace

Session::Session(const SessionParams& p)
    : p_(p),
      last_block_(p.size_known ? p.size / static_cast<uint64_t>(p.blksize) + 1
                               : kUnknownLastBlock),
      oack_pending_(p.oack) {
  p_.windowsize = std::clamp(p_.windowsize, 1, 65535);
  p_.timeout_ms = std::max(p_.timeout_ms, 1);
  p_.max_stall_ms = std::max(p_.max_stall_ms, 1);
}

int Session::WaitMs() const {
  int64_t timeout = p_.timeout_ms;
  // Half the stall budget at most, so that even a client asking a timeout
  // as long as the budget (RFC 2349 allows 255 s) gets one retransmission.
  int64_t wait = std::min({timeout << std::min(retries_, 16),
                           std::max(timeout, kMaxBackoffMs),
                           std::max<int64_t>(1, p_.max_stall_ms / 2)});
  // OnTimeout gives up once the budget is spent, so this stays positive.
  return static_cast<int>(
      std::max<int64_t>(1, std::min(wait, p_.max_stall_ms - stalled_ms_)));
}

void Session::SetLastBlock(uint64_t block) {
  last_block_ = std::max<uint64_t>(block, 1);
  sent_ = std::min(sent_, last_block_);
}

void Session::Progress(uint64_t acked) {
  heard_ = true;
  acked_ = acked;
  retries_ = 0;
  stalled_ms_ = 0;
}

uint64_t Session::BlockOffset(uint64_t block) const {
  return (block - 1) * static_cast<uint64_t>(p_.blksize);
}

uint32_t Session::BlockLength(uint64_t block) const {
  uint64_t offset = BlockOffset(block);
  if (offset >= p_.size) return 0;
  return static_cast<uint32_t>(
      std::min<uint64_t>(p_.blksize, p_.size - offset));
}

Action Session::Start() {
  if (oack_pending_) return {Action::Kind::kSendOack};
  return SendWindow(1, false);
}

Action Session::SendWindow(uint64_t first, bool retransmit) {
  uint64_t last = std::min<uint64_t>(first + p_.windowsize - 1, last_block_);
  sent_ = std::max(sent_, last);
  return {Action::Kind::kSendData, first, last, retransmit};
}

Action Session::OnAck(uint16_t block) {
  if (finished_) return Action::None(Action::Ignored::kFinished);
  if (oack_pending_) {
    // RFC 2347: the client confirms the OACK with an ACK of block 0.
    if (block != 0) return Action::None(Action::Ignored::kFutureAck);
    oack_pending_ = false;
    heard_ = true;
    retries_ = 0;
    stalled_ms_ = 0;
    return SendWindow(1, false);
  }
  // The ACK can only mean a block in [acked_, sent_]: a window never spans
  // more than 65535 blocks, so at most one absolute number matches.
  uint64_t delta = static_cast<uint16_t>(block - WireBlock(acked_));
  if (delta == 0) {
    // A duplicate ACK is never answered, in a window as in lock-step (RFC
    // 1123 4.2.3.1, the Sorcerer's Apprentice). In a window it may say the
    // first block of the window was lost (RFC 7440 section 4), but it is
    // far more often a copy: the network duplicated the ACK, or the client
    // re-ACKed a duplicated block (atftp does at once). Answering those
    // sent every later window twice from one duplicate on (tests/netns/
    // tftp_faults_test.sh, windowsize 4 as EDK2 asks). A real loss of the
    // window's first block is recovered by the timer; a loss inside the
    // window by the client's ACK of the block before it (below).
    return Action::None(Action::Ignored::kDuplicateAck);
  }
  if (acked_ + delta > sent_) {
    // Older than acked_ (a delayed duplicate from a past window) or newer
    // than anything sent: both are impossible answers to the present window.
    bool stale = static_cast<uint16_t>(WireBlock(acked_) - block) <
                 static_cast<uint16_t>(block - WireBlock(sent_));
    return Action::None(stale ? Action::Ignored::kStaleAck
                              : Action::Ignored::kFutureAck);
  }
  Progress(acked_ + delta);
  if (acked_ == last_block_) {
    finished_ = true;
    return {Action::Kind::kDone};
  }
  // RFC 7440 section 4: an ACK inside the window means the client lost the
  // block after it; the next window starts right there either way.
  return SendWindow(acked_ + 1, acked_ + 1 <= sent_);
}

Action Session::Resend() {
  if (oack_pending_) {
    Action a{Action::Kind::kSendOack};
    a.retransmit = true;
    return a;
  }
  if (p_.timeout_resends_one_block) {
    return {Action::Kind::kSendData, acked_ + 1, acked_ + 1, true};
  }
  return SendWindow(acked_ + 1, true);
}

Action Session::OnRepeatedRequest() {
  if (finished_) return Action::None(Action::Ignored::kFinished);
  // Heard, or the timer still retransmits on its own: nothing more.
  if (heard_ || retries_ <= p_.max_retries_before_ack) {
    return Action::None(Action::Ignored::kNo);
  }
  return Resend();
}

Action Session::OnTimeout() {
  if (finished_) return Action::None(Action::Ignored::kFinished);
  stalled_ms_ += WaitMs();
  if (++retries_ > p_.max_retries || stalled_ms_ >= p_.max_stall_ms) {
    finished_ = true;
    return {Action::Kind::kGiveUp};
  }
  if (!heard_ && retries_ > p_.max_retries_before_ack) {
    return {Action::Kind::kWait};  // silent: the request may be forged
  }
  return Resend();
}

}  // namespace tftp
