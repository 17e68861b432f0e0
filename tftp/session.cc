#include "tftp/session.h"

#include <algorithm>

namespace tftp {

Session::Session(const SessionParams& p)
    : p_(p),
      last_block_(p.size / static_cast<uint64_t>(p.blksize) + 1),
      oack_pending_(p.oack) {
  p_.windowsize = std::clamp(p_.windowsize, 1, 65535);
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
    retries_ = 0;
    return SendWindow(1, false);
  }
  // The ACK can only mean a block in [acked_, sent_]: a window never spans
  // more than 65535 blocks, so at most one absolute number matches.
  uint64_t delta = static_cast<uint16_t>(block - WireBlock(acked_));
  if (delta == 0) {
    // RFC 1123 4.2.3.1 (Sorcerer's Apprentice): answering a duplicate ACK
    // doubles every later packet. Only the timer retransmits.
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
  acked_ += delta;
  retries_ = 0;
  if (acked_ == last_block_) {
    finished_ = true;
    return {Action::Kind::kDone};
  }
  // RFC 7440 section 4: an ACK inside the window means the client lost the
  // block after it; the next window starts right there either way.
  return SendWindow(acked_ + 1, acked_ + 1 <= sent_);
}

Action Session::OnTimeout() {
  if (finished_) return Action::None(Action::Ignored::kFinished);
  if (++retries_ > p_.max_retries) {
    finished_ = true;
    return {Action::Kind::kGiveUp};
  }
  if (oack_pending_) {
    Action a{Action::Kind::kSendOack};
    a.retransmit = true;
    return a;
  }
  return SendWindow(acked_ + 1, true);
}

}  // namespace tftp
