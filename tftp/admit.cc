#include "tftp/admit.h"

#include <algorithm>
#include <utility>

namespace tftp {
namespace {

// RFC 2348: 32 bytes of IPv4 (20) + UDP (8) + TFTP (4) headers.
constexpr int kHeaderOverhead = 32;

Refusal Drop(Reason reason, std::string detail = "", bool request = false) {
  Refusal r;
  r.reason = reason;
  r.detail = std::move(detail);
  r.request = request;
  return r;
}

Refusal Answer(Reason reason, wire::TftpErrorCode code, std::string text,
               std::string detail, bool request = true) {
  Refusal r = Drop(reason, std::move(detail), request);
  r.answer = true;
  r.code = code;
  r.text = std::move(text);
  return r;
}

// The checks before any file is touched: what the packet is, and whether
// this client may start a transfer now.
std::optional<Refusal> CheckRequest(absl::Span<const uint8_t> packet,
                                    const AdmitLimits& limits,
                                    const Occupancy& occupancy,
                                    wire::TftpRequest* req,
                                    wire::TftpMode* mode, bool* replaces,
                                    bool* evict) {
  absl::StatusOr<wire::TftpOpcode> op = wire::PeekTftpOpcode(packet);
  if (!op.ok())
    return Drop(Reason::kMalformed, std::string(op.status().message()));
  if (*op == wire::TftpOpcode::kError) return Drop(Reason::kStrayError);
  if (*op != wire::TftpOpcode::kRrq && *op != wire::TftpOpcode::kWrq) {
    return Answer(Reason::kUnknownTid, wire::TftpErrorCode::kUnknownTid,
                  "unknown transfer ID", "", /*request=*/false);
  }
  absl::StatusOr<wire::TftpRequest> parsed = wire::ParseTftpRequest(packet);
  if (!parsed.ok()) {
    return Answer(Reason::kMalformedRequest,
                  wire::TftpErrorCode::kIllegalOperation, "malformed request",
                  std::string(parsed.status().message()));
  }
  *req = *std::move(parsed);
  if (req->opcode == wire::TftpOpcode::kWrq) {
    return Answer(Reason::kWriteRequest, wire::TftpErrorCode::kAccessViolation,
                  "read-only server", req->filename);
  }
  *replaces = false;
  if (occupancy.same_port_file) {
    // The client repeated its RRQ because our first answer was lost or
    // late; that transfer's timer will resend it. A second transfer from
    // another port would only earn an ERROR 5 from the client.
    if (*occupancy.same_port_file == req->filename) {
      return Drop(Reason::kDuplicateRrq, req->filename, true);
    }
    // Another file from the same port: the client has given up on the old
    // transfer (its timer would otherwise hold the peer for up to a minute).
    *replaces = true;
  }
  if (!wire::ParseTftpMode(req->mode, mode)) {
    return Answer(Reason::kMode, wire::TftpErrorCode::kIllegalOperation,
                  "only octet and netascii", req->mode);
  }
  if (occupancy.stopping) return Drop(Reason::kStopping, req->filename, true);
  // The transfer being replaced frees its slot.
  size_t sessions = occupancy.sessions - (*replaces ? 1 : 0);
  size_t host = occupancy.host_sessions - (*replaces ? 1 : 0);
  // No ERROR for either cap: EDK2 and iPXE abort the boot on one. Dropped,
  // the RRQ is sent again by the client and gets through once a boot storm
  // thins. The per-host cap comes first: a host flooding RRQs is told
  // apart from a full server in the counters.
  if (host >= static_cast<size_t>(std::max(limits.max_sessions_per_host, 1))) {
    return Drop(Reason::kMaxSessionsPerHost, req->filename, true);
  }
  if (sessions >= static_cast<size_t>(std::max(limits.max_sessions, 1))) {
    if (occupancy.evictable == 0) {
      return Drop(Reason::kMaxSessions, req->filename, true);
    }
    *evict = true;
  }
  return std::nullopt;
}

}  // namespace

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kTruncated:
      return "truncated";
    case Reason::kMalformed:
      return "malformed";
    case Reason::kStrayError:
      return "stray_error";
    case Reason::kUnknownTid:
      return "unknown_tid";
    case Reason::kMalformedRequest:
      return "malformed_request";
    case Reason::kWriteRequest:
      return "write_request";
    case Reason::kDuplicateRrq:
      return "duplicate_rrq";
    case Reason::kMode:
      return "mode";
    case Reason::kMaxSessions:
      return "max_sessions";
    case Reason::kMaxSessionsPerHost:
      return "max_sessions_per_host";
    case Reason::kNotFound:
      return "not_found";
    case Reason::kAccess:
      return "access";
    case Reason::kUnreadable:
      return "unreadable";
    case Reason::kBadOption:
      return "bad_option";
    case Reason::kNoSocket:
      return "no_socket";
    case Reason::kNotServedInterface:
      return "not_served_interface";
    case Reason::kDuplicateAck:
      return "duplicate_ack";
    case Reason::kStaleAck:
      return "stale_ack";
    case Reason::kFutureAck:
      return "future_ack";
    case Reason::kEvictedUnheard:
      return "evicted_unheard";
    case Reason::kStopping:
      return "stopping";
    case Reason::kAfterFinish:
      return "after_finish";
  }
  return "unknown";
}

std::vector<Reason> AllReasons() {
  return {Reason::kTruncated,        Reason::kMalformed,
          Reason::kStrayError,       Reason::kUnknownTid,
          Reason::kMalformedRequest, Reason::kWriteRequest,
          Reason::kDuplicateRrq,     Reason::kMode,
          Reason::kMaxSessions,      Reason::kMaxSessionsPerHost,
          Reason::kNotFound,         Reason::kAccess,
          Reason::kUnreadable,       Reason::kBadOption,
          Reason::kNoSocket,         Reason::kNotServedInterface,
          Reason::kDuplicateAck,     Reason::kStaleAck,
          Reason::kFutureAck,        Reason::kAfterFinish,
          Reason::kEvictedUnheard,   Reason::kStopping};
}

Reason ReasonOf(Action::Ignored why) {
  switch (why) {
    case Action::Ignored::kDuplicateAck:
      return Reason::kDuplicateAck;
    case Action::Ignored::kStaleAck:
      return Reason::kStaleAck;
    case Action::Ignored::kFutureAck:
      return Reason::kFutureAck;
    case Action::Ignored::kNo:
    case Action::Ignored::kFinished:
      break;
  }
  return Reason::kAfterFinish;
}

Admission Admit(absl::Span<const uint8_t> packet, const Peer& peer,
                const AdmitLimits& limits, const Occupancy& occupancy,
                FileLookup& lookup) {
  Plan plan;
  wire::TftpRequest req;
  if (std::optional<Refusal> r =
          CheckRequest(packet, limits, occupancy, &req, &plan.mode,
                       &plan.replaces, &plan.evict_unheard)) {
    return std::move(*r);
  }
  FileLookup::Result file = lookup.Open(req.filename);
  if (Refusal* r = std::get_if<Refusal>(&file)) {
    r->request = true;
    if (r->detail.empty()) r->detail = req.filename;
    return std::move(*r);
  }
  plan.data = std::get<std::shared_ptr<const FileData>>(std::move(file));
  NegotiationLimits nl{limits.max_blksize, limits.max_windowsize,
                       limits.default_timeout_ms};
  if (limits.single_port) {
    nl.max_windowsize =
        std::min(nl.max_windowsize, AdmitLimits::kSinglePortMaxWindowsize);
  }
  if (peer.mtu > kHeaderOverhead + kMinBlksize) {
    nl.max_blksize = std::min(nl.max_blksize, peer.mtu - kHeaderOverhead);
  }
  bool netascii = plan.mode == wire::TftpMode::kNetascii;
  std::optional<uint64_t> size;
  if (!netascii) size = plan.data->size();
  absl::StatusOr<Negotiated> neg = Negotiate(req.options, size, nl);
  if (!neg.ok()) {
    return Answer(Reason::kBadOption, wire::TftpErrorCode::kBadOptions,
                  std::string(neg.status().message()), req.filename);
  }
  plan.options = *std::move(neg);
  SessionParams& s = plan.session;
  s.size = plan.data->size();
  s.size_known = !netascii;
  s.blksize = plan.options.blksize;
  s.windowsize = plan.options.windowsize;
  s.oack = !plan.options.oack.empty();
  s.max_retries = limits.max_retries;
  s.timeout_ms = plan.options.timeout_ms;
  s.timeout_resends_one_block = limits.single_port;
  // GSO cuts a window into datagrams that must each fit the MTU: only when
  // the MTU is known and the block fits it (no fragments, no DF trouble).
  plan.gso = plan.options.windowsize > 1 && peer.mtu > 0 &&
             plan.options.blksize + kHeaderOverhead <= peer.mtu;
  plan.filename = std::move(req.filename);
  return plan;
}

}  // namespace tftp
