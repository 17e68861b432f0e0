// The server's request side: a datagram on the TFTP port becomes a refusal
// (an ERROR packet and a counter) or a new transfer.
#include <errno.h>
#include <sys/epoll.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "tftp/options.h"
#include "tftp/server.h"

namespace tftp {
namespace {

// RFC 2348: 32 bytes of IPv4 (20) + UDP (8) + TFTP (4) headers.
constexpr int kHeaderOverhead = 32;

}  // namespace

void Server::OnRequest(const Datagram& d, absl::Span<const uint8_t> packet) {
  absl::StatusOr<Opcode> op = PeekOpcode(packet);
  if (!op.ok()) {
    ++counters_.dropped["malformed"];
    VLOG(1) << "tftp: " << FormatEndpoint(d.peer) << ": " << op.status();
    return;
  }
  if (*op == Opcode::kError) {
    ++counters_.dropped["stray_error"];  // never answer an ERROR
    return;
  }
  if (*op != Opcode::kRrq && *op != Opcode::kWrq) {
    Refuse(server_fd_, d, ErrorCode::kUnknownTid, "unknown_tid",
           "unknown transfer ID", "");
    return;
  }
  ++counters_.requests;
  absl::StatusOr<Request> req = ParseRequest(packet);
  if (!req.ok()) {
    Refuse(server_fd_, d, ErrorCode::kIllegalOperation, "malformed_request",
           "malformed request", std::string(req.status().message()));
    return;
  }
  if (req->opcode == Opcode::kWrq) {
    Refuse(server_fd_, d, ErrorCode::kAccessViolation, "write_request",
           "read-only server", req->filename);
    return;
  }
  if (auto it = by_peer_.find(d.peer); it != by_peer_.end()) {
    Transfer& old = *transfers_.at(it->second);
    if (old.filename == req->filename) {
      // The client repeated its RRQ because our first answer was lost or
      // late; that transfer's timer will resend it. A second transfer from
      // another port would only earn an ERROR 5 from the client.
      ++counters_.dropped["duplicate_rrq"];
      return;
    }
    // Another file from the same port: the client has given up on the old
    // transfer (its timer would otherwise hold the peer for up to a minute).
    Finish(old, false, "replaced by a new request from the same port");
  }
  StartTransfer(d, *req);
}

void Server::Drop(const Datagram& d, const std::string& reason,
                  const std::string& filename) {
  ++counters_.dropped[reason];
  VLOG(1) << "tftp: dropped RRQ from " << FormatEndpoint(d.peer) << " ("
          << reason << "): '" << absl::CEscape(filename) << "'";
}

bool Server::OpenFile(const Datagram& d, const Request& req, Mode mode,
                      std::shared_ptr<const FileData>* data) {
  Normalized n;
  Refusal why;
  if (NormalizeName(req.filename, &n, &why) && virtual_.contains(n.relative)) {
    *data = virtual_[n.relative];
  } else {
    std::string path;
    if (!policy_.Resolve(req.filename, &path, &why)) {
      Refuse(server_fd_, d, why.code,
             why.code == ErrorCode::kNotFound ? "not_found" : "access",
             why.reason, req.filename);
      return false;
    }
    absl::StatusOr<std::shared_ptr<const FileData>> file = cache_.Get(path);
    if (!file.ok()) {
      Refuse(server_fd_, d, ErrorCode::kAccessViolation, "unreadable",
             "cannot read file", std::string(file.status().message()));
      return false;
    }
    *data = std::move(*file);
  }
  if (mode == Mode::kNetascii) {
    // A conversion is a whole copy in memory: only of files small enough
    // to be cached. Boot files go in octet mode anyway.
    if (!(*data)->in_memory()) {
      Refuse(server_fd_, d, ErrorCode::kAccessViolation, "netascii_too_large",
             "file too large for netascii, use octet", req.filename);
      return false;
    }
    *data = Netascii(*data);
  }
  return true;
}

// One conversion per file version, shared like the octet bytes: a flood of
// netascii RRQs for a large file must not make a copy per transfer.
std::shared_ptr<const FileData> Server::Netascii(
    const std::shared_ptr<const FileData>& octets) {
  for (auto it = netascii_.begin(); it != netascii_.end();) {
    if (it->second.converted.expired()) {
      netascii_.erase(it++);
    } else {
      ++it;
    }
  }
  auto it = netascii_.find(octets.get());
  if (it != netascii_.end()) {
    if (auto converted = it->second.converted.lock()) return converted;
  }
  absl::Span<const uint8_t> b = octets->bytes();
  std::shared_ptr<const FileData> converted = MakeFileData(ToNetascii(
      absl::string_view(reinterpret_cast<const char*>(b.data()), b.size())));
  // The entry holds the original so its address cannot be reused by another
  // file while the conversion lives.
  netascii_[octets.get()] = {octets, converted};
  return converted;
}

void Server::StartTransfer(const Datagram& d, const Request& req) {
  Mode mode;
  if (!ParseMode(req.mode, &mode)) {
    Refuse(server_fd_, d, ErrorCode::kIllegalOperation, "mode",
           "only octet and netascii", req.mode);
    return;
  }
  if (transfers_.size() >= static_cast<size_t>(config_.max_sessions)) {
    // No ERROR: EDK2 and iPXE abort the boot on one. Dropped, the RRQ is
    // sent again by the client and gets through once a boot storm thins.
    Drop(d, "max_sessions", req.filename);
    return;
  }
  std::shared_ptr<const FileData> data;
  if (!OpenFile(d, req, mode, &data)) return;
  NegotiationLimits limits{config_.max_blksize, config_.max_windowsize,
                           config_.timeout_ms};
  int mtu = InterfaceMtu(d.ifindex);
  if (mtu > kHeaderOverhead + kMinBlksize) {
    limits.max_blksize = std::min(limits.max_blksize, mtu - kHeaderOverhead);
  }
  absl::StatusOr<Negotiated> neg = Negotiate(req.options, data->size(), limits);
  if (!neg.ok()) {
    Refuse(server_fd_, d, ErrorCode::kBadOptions, "bad_option",
           std::string(neg.status().message()), req.filename);
    return;
  }
  int fd = server_fd_;
  if (!config_.single_port) {
    absl::StatusOr<int> s = OpenTransferSocket(d.local);
    if (!s.ok()) {
      LOG(ERROR) << "tftp: " << s.status();
      Drop(d, "no_socket", req.filename);  // as busy as max_sessions
      return;
    }
    fd = *s;
  }
  AddTransfer(d, req.filename, fd, std::move(data), *std::move(neg), mtu);
}

void Server::AddTransfer(const Datagram& d, const std::string& filename, int fd,
                         std::shared_ptr<const FileData> data, Negotiated neg,
                         int mtu) {
  SessionParams p{data->size(),      neg.blksize,         neg.windowsize,
                  !neg.oack.empty(), config_.max_retries, neg.timeout_ms};
  auto t = std::make_unique<Transfer>(p);
  t->id = next_id_++;
  t->fd = fd;
  t->own_fd = !config_.single_port;
  t->peer = d.peer;
  t->local = d.local;
  t->filename = filename;
  t->data = std::move(data);
  t->oack = BuildOack(neg.oack);
  // GSO cuts a window into datagrams that must each fit the MTU: only when
  // the MTU is known and the block fits it (no fragments, no DF trouble).
  t->gso =
      neg.windowsize > 1 && mtu > 0 && neg.blksize + kHeaderOverhead <= mtu;
  t->options = std::move(neg);
  t->started = Clock::now();
  if (t->own_fd) {
    epoll_event ev{EPOLLIN, {.u64 = t->id}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, t->fd, &ev);
  }
  ++counters_.transfers_started;
  by_peer_[t->peer] = t->id;
  Transfer& ref = *t;
  transfers_[t->id] = std::move(t);
  Apply(ref, ref.session.Start());
}

}  // namespace tftp
