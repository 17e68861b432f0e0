// The server's request side: a datagram on the TFTP port goes through
// tftp::Admit (the pure decision), and this executes it: a refusal (an ERROR
// packet or nothing, a counter, a rate-limited log line) or a new transfer.
#include <errno.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "metrics/pxeproxy_metrics.h"
#include "tftp/options.h"
#include "tftp/server.h"

namespace tftp {
namespace {

Refusal Refused(Reason reason, wire::TftpErrorCode code,
                absl::string_view text) {
  Refusal r;
  r.reason = reason;
  r.answer = true;
  r.code = code;
  r.text = std::string(text);
  return r;
}

}  // namespace

// The file lookup Admit calls: virtual files first, then the root, opened
// race-free (PathPolicy::Open) and shared through the cache.
class Server::Lookup : public FileLookup {
 public:
  explicit Lookup(Server& s) : s_(s) {}
  Result Open(const std::string& name) override {
    if (absl::StatusOr<std::string> relative = NormalizeName(name);
        relative.ok()) {
      auto it = s_.virtual_.find(*relative);
      if (it != s_.virtual_.end()) return it->second;
    }
    absl::StatusOr<OpenedFile> opened = s_.policy_.Open(name);
    if (!opened.ok()) {
      wire::TftpErrorCode code = RefusalCode(opened.status());
      return Refused(code == wire::TftpErrorCode::kNotFound ? Reason::kNotFound
                                                            : Reason::kAccess,
                     code, opened.status().message());
    }
    absl::StatusOr<std::shared_ptr<const FileData>> file =
        s_.cache_.Get(opened->fd, opened->path);
    if (!file.ok()) {
      Refusal r =
          Refused(Reason::kUnreadable, wire::TftpErrorCode::kAccessViolation,
                  "cannot read file");
      r.detail = std::string(file.status().message());
      return r;
    }
    return *std::move(file);
  }

 private:
  Server& s_;
};

bool Server::Served(const Datagram& d) {
  if (config_.interfaces.empty() || served_.contains(d.ifindex)) return true;
  // An interface deleted and created again has a new index; look the names
  // up again, but not for every datagram of a flood from elsewhere.
  Clock::time_point now = Clock::now();
  if (now - served_lookup_ >= std::chrono::seconds(1) ||
      served_lookup_ == Clock::time_point()) {
    served_lookup_ = now;
    served_.clear();
    if (unsigned lo = if_nametoindex("lo")) served_.insert(lo);
    for (const std::string& name : config_.interfaces) {
      if (unsigned i = if_nametoindex(name.c_str())) served_.insert(i);
    }
  }
  return served_.contains(d.ifindex);
}

int Server::Mtu(int ifindex) {
  Clock::time_point now = Clock::now();
  auto it = mtu_.find(ifindex);
  if (it != mtu_.end() && now - it->second.at < std::chrono::seconds(1)) {
    return it->second.mtu;
  }
  int mtu = InterfaceMtu(ifindex);
  mtu_[ifindex] = {mtu, now};
  return mtu;
}

Occupancy Server::OccupancyFor(const Datagram& d, uint64_t same_port) const {
  Occupancy occupancy;
  occupancy.sessions = transfers_.size();
  occupancy.stopping = stop_deadline_.has_value();
  if (auto h = per_host_.find(d.peer.ip); h != per_host_.end()) {
    occupancy.host_sessions = h->second;
  }
  if (same_port != 0) {
    occupancy.same_port_file = transfers_.at(same_port)->filename;
  }
  // A real client answers an OACK or block 1 in milliseconds; one silent
  // for a second has lost a packet (and will repeat its RRQ) or was forged.
  if (!unheard_.empty() &&
      Clock::now() - transfers_.at(*unheard_.begin())->started >=
          std::chrono::seconds(1)) {
    occupancy.evictable = 1;
  }
  return occupancy;
}

void Server::OnRequest(const Datagram& d, absl::Span<const uint8_t> packet) {
  auto old = by_peer_.find(d.peer);
  const uint64_t same_port = old != by_peer_.end() ? old->second : 0;
  AdmitLimits limits{config_.max_sessions, config_.max_sessions_per_host,
                     config_.max_blksize,  config_.max_windowsize,
                     config_.timeout_ms,   config_.max_retries,
                     config_.single_port};
  Lookup lookup(*this);
  Admission a = Admit(packet, Peer{d.peer, Mtu(d.ifindex)}, limits,
                      OccupancyFor(d, same_port), lookup);
  if (config_.on_request &&
      (std::holds_alternative<Plan>(a) || std::get<Refusal>(a).request)) {
    config_.on_request(d.peer.ip);
  }
  if (Refusal* r = std::get_if<Refusal>(&a)) {
    if (r->request) ++counters_.requests;
    Refuse(d, *r);
    if (r->reason == Reason::kDuplicateRrq && same_port != 0) {
      Transfer& t = *transfers_.at(same_port);
      Action again = t.session.OnRepeatedRequest();
      if (again.kind != Action::Kind::kNone) Apply(t, again);
    }
    return;
  }
  ++counters_.requests;
  Start(d, std::get<Plan>(std::move(a)), same_port);
}

void Server::Start(const Datagram& d, Plan plan, uint64_t same_port) {
  if (plan.replaces && same_port != 0) {
    Finish(*transfers_.at(same_port), metrics::TransferEnd::kReplaced,
           "replaced by a new request from the same port");
  }
  if (plan.evict_unheard && !unheard_.empty()) {
    Count(Reason::kEvictedUnheard);
    Finish(*transfers_.at(*unheard_.begin()), metrics::TransferEnd::kEvicted,
           "evicted: the server is full and its client never answered");
  }
  int fd = server_fd_;
  if (!config_.single_port) {
    absl::StatusOr<int> s = OpenTransferSocket(d.local);
    if (!s.ok()) {
      Refusal r;  // as busy as max_sessions: dropped, the client retries
      r.reason = Reason::kNoSocket;
      r.detail = std::string(s.status().message());
      Refuse(d, r);
      return;
    }
    fd = *s;
  }
  AddTransfer(d, fd, std::move(plan));
}

std::optional<std::string> Server::LogSlot(const std::string& key) {
  std::optional<uint64_t> n = log_limit_.Admit(key, Clock::now());
  if (!n) return std::nullopt;
  return wire::LogLimiter::Suffix(*n);
}

void Server::Refuse(const Datagram& d, const Refusal& r) {
  const char* name = ReasonName(r.reason);
  ++(r.answer ? counters_.refused : counters_.dropped)[name];
  if (metrics_) metrics_->TftpRefused(d.peer.ip, r.reason, r.detail);
  if (r.reason == Reason::kNoSocket) {
    // Our fault (the open-file limit), not the client's: an error, but one
    // line per interval however many requests meet it.
    if (auto more = LogSlot(name)) {
      LOG(ERROR) << "tftp: no socket for a transfer: " << r.detail << *more;
    }
  } else if (VLOG_IS_ON(1)) {
    if (auto more = LogSlot(name)) {
      VLOG(1) << "tftp: " << (r.answer ? "refused " : "dropped ")
              << FormatEndpoint(d.peer) << " (" << name << ")"
              << (r.text.empty() ? "" : ": " + r.text)
              << (r.detail.empty() ? "" : ": '" + absl::CEscape(r.detail) + "'")
              << *more;
    }
  }
  if (r.answer) SendError(server_fd_, d.peer, d.local, r.code, r.text);
}

void Server::AddTransfer(const Datagram& d, int fd, Plan plan) {
  auto t = std::make_unique<Transfer>(plan.session);
  t->id = next_id_++;
  t->fd = fd;
  t->own_fd = !config_.single_port;
  t->peer = d.peer;
  t->local = d.local;
  t->filename = std::move(plan.filename);
  t->mode = plan.mode;
  t->data = std::move(plan.data);
  t->oack = wire::BuildTftpOack(plan.options.oack);
  t->gso = plan.gso;
  t->options = std::move(plan.options);
  t->started = Clock::now();
  if (t->own_fd) {
    epoll_event ev{EPOLLIN, {.u64 = t->id}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, t->fd, &ev);
  }
  ++counters_.transfers_started;
  if (metrics_) metrics_->TftpStarted(t->peer.ip, t->filename);
  by_peer_[t->peer] = t->id;
  ++per_host_[t->peer.ip];
  unheard_.insert(t->id);
  Transfer& ref = *t;
  transfers_[t->id] = std::move(t);
  peak_transfers_ = std::max(peak_transfers_, transfers_.size());
  Apply(ref, ref.session.Start());
}

}  // namespace tftp
