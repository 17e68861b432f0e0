// The server's sending side: what the session asks for (Apply), DATA
// windows read or converted from the file and sent in batches (sendmmsg or
// one UDP GSO send), and ERROR packets.
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "metrics/pxeproxy_metrics.h"
#include "tftp/gso.h"
#include "tftp/server.h"
#include "wire/status_macros.h"

namespace tftp {
namespace {

constexpr int kMaxBatch = 64;  // datagrams per sendmmsg call

}  // namespace

void Server::Apply(Transfer& t, const Action& a) {
  switch (a.kind) {
    case Action::Kind::kNone:
      Count(ReasonOf(a.ignored));
      return;
    case Action::Kind::kWait:
      ArmTimer(t);
      return;
    case Action::Kind::kSendOack: {
      iovec iov{t.oack.data(), t.oack.size()};
      if (Send(t.fd, t.peer, t.own_fd ? 0 : t.local, {&iov, 1}).ok()) {
        ++counters_.packets_sent;
      } else {
        ++counters_.send_errors;
      }
      if (a.retransmit) ++counters_.retransmits, ++t.retransmits;
      ArmTimer(t);
      return;
    }
    case Action::Kind::kSendData: {
      if (!SendData(t, a.first, a.last)) return;  // t is gone
      // A netascii window may stop at the block found to be the last.
      uint64_t last = std::min(a.last, t.session.last_block());
      if (a.retransmit && last >= a.first) {
        counters_.retransmits += last - a.first + 1;
        t.retransmits += last - a.first + 1;
      }
      ArmTimer(t);
      return;
    }
    case Action::Kind::kDone:
      Finish(t, metrics::TransferEnd::kDone, "done");
      return;
    case Action::Kind::kGiveUp:
      Finish(t, metrics::TransferEnd::kTimeout,
             absl::StrCat("no answer for ", t.session.stalled_ms(), "ms"));
      return;
  }
}

bool Server::SendData(Transfer& t, uint64_t first, uint64_t last) {
  std::array<std::array<uint8_t, 4>, kMaxBatch> headers;
  std::array<iovec, size_t{2} * kMaxBatch> iov;
  std::array<absl::Span<const uint8_t>, kMaxBatch> payload;
  if (t.mode == wire::TftpMode::kNetascii) t.netascii.Acked(t.session.acked());
  for (uint64_t block = first; block <= last;) {
    // UDP GSO sends at most 64 KiB per call.
    int batch = t.gso
                    ? std::clamp(65000 / (4 + t.options.blksize), 1, kMaxBatch)
                    : kMaxBatch;
    uint64_t batch_last = std::min<uint64_t>(last, block + batch - 1);
    absl::StatusOr<int> ready =
        t.mode == wire::TftpMode::kNetascii
            ? EncodeBatch(t, block, batch_last, payload.data())
            : ReadBatch(t, block, batch_last, payload.data());
    if (!ready.ok()) {
      LOG(WARNING) << "tftp: " << ready.status();
      SendError(t.fd, t.peer, t.own_fd ? 0 : t.local,
                wire::TftpErrorCode::kNotDefined,
                "file changed during the transfer, try again");
      Finish(t, metrics::TransferEnd::kReadError,
             std::string(ready.status().message()));
      return false;
    }
    int count = *ready;
    for (int i = 0; i < count; ++i) {
      headers[i] = wire::TftpDataHeader(Session::WireBlock(block + i));
      iov[size_t{2} * i] = {headers[i].data(), headers[i].size()};
      iov[size_t{2} * i + 1] = {const_cast<uint8_t*>(payload[i].data()),
                                payload[i].size()};
      counters_.data_bytes += payload[i].size();
    }
    int sent = SendChunk(t, iov.data(), count);
    counters_.packets_sent += sent;
    // A full socket buffer loses the rest of the window like the network
    // would; the timer resends it.
    counters_.send_errors += count - sent;
    block += count;
    if (block > t.session.last_block()) break;  // netascii: the end
  }
  return true;
}

absl::StatusOr<int> Server::ReadBatch(Transfer& t, uint64_t first,
                                      uint64_t last,
                                      absl::Span<const uint8_t>* out) {
  // The batch's blocks are contiguous in the file: one read for all.
  uint64_t offset = t.session.BlockOffset(first);
  uint64_t length = 0;
  for (uint64_t b = first; b <= last; ++b) length += t.session.BlockLength(b);
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> bytes,
                   t.data->Read(offset, length, &read_buf_));
  uint64_t at = 0;
  int count = 0;
  for (uint64_t b = first; b <= last; ++b, ++count) {
    uint32_t n = t.session.BlockLength(b);
    out[count] = bytes.subspan(at, n);
    at += n;
  }
  return count;
}

// Each block converted from the cursor where it starts (kept for the
// unacknowledged window), reading at most one block of the file: the work
// per DATA packet is the same as for octet, whatever the file's size.
absl::StatusOr<int> Server::EncodeBatch(Transfer& t, uint64_t first,
                                        uint64_t last,
                                        absl::Span<const uint8_t>* out) {
  size_t blksize = static_cast<size_t>(t.options.blksize);
  encode_buf_.clear();
  // Reserved up front: `out` points into it while it grows.
  encode_buf_.reserve((last - first + 1) * blksize);
  int count = 0;
  for (uint64_t b = first; b <= last; ++b, ++count) {
    std::optional<NetasciiCursor> at = t.netascii.Start(b);
    if (!at) {
      return absl::InternalError(
          absl::StrCat("netascii: no cursor for block ", b));
    }
    uint64_t left = t.data->size() - std::min(at->src, t.data->size());
    ASSIGN_OR_RETURN(
        absl::Span<const uint8_t> src,
        t.data->Read(at->src,
                     static_cast<size_t>(std::min<uint64_t>(left, blksize)),
                     &read_buf_));
    size_t before = encode_buf_.size();
    NetasciiCursor next = EncodeNetascii(*at, src, blksize, &encode_buf_);
    size_t n = encode_buf_.size() - before;
    out[count] = {reinterpret_cast<const uint8_t*>(encode_buf_.data()) + before,
                  n};
    t.netascii.SetStart(b + 1, next);
    if (n < blksize) {
      t.session.SetLastBlock(b);
      return count + 1;
    }
  }
  return count;
}

// A window as one UDP_SEGMENT send when the transfer may use GSO, else
// with sendmmsg. Returns how many datagrams went out.
int Server::SendChunk(Transfer& t, const iovec* iov, int count) {
  wire::Ipv4 local = t.own_fd ? 0 : t.local;
  if (t.gso && gso_works_ && count > 1) {
    absl::Status sent =
        SendSegmented(t.fd, t.peer, local, iov, 2 * count,
                      static_cast<uint16_t>(4 + t.options.blksize));
    if (sent.ok()) {
      gso_worked_ = true;
      return count;
    }
    int err = ErrnoOf(sent);
    switch (GsoAfterError(err, gso_worked_)) {
      case GsoFallback::kRetryLater:
        return 0;
      case GsoFallback::kEverywhere:
        LOG(WARNING) << "tftp: UDP GSO refused (" << strerror(err)
                     << "); using sendmmsg from now on";
        gso_works_ = false;
        break;
      case GsoFallback::kThisTransfer:
        if (auto more = LogSlot("gso_error")) {
          LOG(WARNING) << "tftp: UDP GSO send to " << FormatEndpoint(t.peer)
                       << " failed (" << strerror(err)
                       << "); this transfer goes on with sendmmsg" << *more;
        }
        t.gso = false;
        break;
    }
  }
  return SendBatch(t.fd, t.peer, local, iov, count);
}

void Server::SendError(int fd, const Endpoint& to, wire::Ipv4 local,
                       wire::TftpErrorCode code, const std::string& text) {
  std::vector<uint8_t> packet = wire::BuildTftpError(code, text);
  iovec iov{packet.data(), packet.size()};
  if (Send(fd, to, local, {&iov, 1}).ok()) {
    ++counters_.packets_sent;
  } else {
    ++counters_.send_errors;
  }
}

}  // namespace tftp
