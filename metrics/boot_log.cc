#include "metrics/boot_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/finding_ids.h"

namespace metrics {
namespace {

using capture::Stage;

// How many of the most recent machines a TFTP request from an address not
// yet known is matched against (BIOS firmware gets its address from the
// corporate server, whose ACK pxeproxy does not receive).
constexpr int kIpGuessDepth = 64;

std::string Seconds(BootLog::Clock::duration d) {
  return absl::StrFormat("+%.1fs", std::chrono::duration<double>(d).count());
}

// The name the log shows for a file: printable bytes only.
std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c >= 0x21 && c < 0x7f) ? char(c) : '?';
  return out;
}

}  // namespace

const char* TransferEndName(TransferEnd e) {
  switch (e) {
    case TransferEnd::kDone:
      return "done";
    case TransferEnd::kTimeout:
      return "timeout";
    case TransferEnd::kClientError:
      return "client_error";
    case TransferEnd::kReplaced:
      return "replaced";
    case TransferEnd::kEvicted:
      return "evicted";
    case TransferEnd::kStopped:
      return "stopped";
    case TransferEnd::kReadError:
      return "read_error";
  }
  return "?";
}

std::vector<TransferEnd> AllTransferFailures() {
  return {TransferEnd::kTimeout,  TransferEnd::kClientError,
          TransferEnd::kReplaced, TransferEnd::kEvicted,
          TransferEnd::kStopped,  TransferEnd::kReadError};
}

void BootLog::Touch(Lru::iterator it) {
  if (it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
}

BootLog::Client* BootLog::Find(const wire::MacAddr& mac, bool create,
                               Clock::time_point now) {
  auto found = by_mac_.find(mac);
  if (found != by_mac_.end()) {
    Touch(found->second);
    return &*found->second;
  }
  if (!create) return nullptr;
  if (lru_.size() >= options_.max_clients && !lru_.empty()) {
    Client& old = lru_.back();
    if (old.ip != 0) by_ip_.erase(old.ip);
    by_mac_.erase(old.mac);
    lru_.pop_back();
    ++evicted_;
  }
  lru_.push_front(Client{});
  Client& c = lru_.front();
  c.mac = mac;
  c.start = c.last = now;
  by_mac_[mac] = lru_.begin();
  return &c;
}

void BootLog::Restart(Client& c, Clock::time_point now) {
  Client fresh;
  fresh.mac = c.mac;
  fresh.ip = c.ip;  // still in by_ip_
  fresh.start = fresh.last = now;
  c = std::move(fresh);
}

void BootLog::SetIp(Client& c, wire::Ipv4 ip) {
  if (ip == 0 || c.ip == ip) return;
  if (c.ip != 0) by_ip_.erase(c.ip);
  // An address moved to another machine: the old holder loses it.
  if (auto old = by_ip_.find(ip); old != by_ip_.end()) {
    if (auto m = by_mac_.find(old->second); m != by_mac_.end()) {
      m->second->ip = 0;
    }
  }
  c.ip = ip;
  by_ip_[ip] = c.mac;
}

BootLog::Client* BootLog::ByIp(wire::Ipv4 ip, const std::string& file,
                               Clock::time_point now) {
  if (auto it = by_ip_.find(ip); it != by_ip_.end()) {
    return Find(it->second, false, now);
  }
  // The most recent machine offered this very file that has no address yet.
  int depth = 0;
  for (auto it = lru_.begin(); it != lru_.end() && depth < kIpGuessDepth;
       ++it, ++depth) {
    if (it->ip == 0 && !it->reported && it->offered_file == file) {
      SetIp(*it, ip);
      Touch(it);
      return &lru_.front();
    }
  }
  return nullptr;
}

void BootLog::Offered(Clock::time_point now, const wire::MacAddr& mac,
                      uint32_t xid, const char* arch, const std::string& file) {
  Client* c = Find(mac, true, now);
  const bool same_boot = c->stage == Stage::kOffered && c->xid == xid &&
                         !c->reported && c->offers > 0;
  if (!same_boot) Restart(*c, now);
  c->arch = arch;
  c->xid = xid;
  c->stage = Stage::kOffered;
  c->offered_file = file;
  ++c->offers;
  // A repeated DISCOVER is not progress: the stall clock keeps running from
  // the first offer.
  if (!same_boot) c->last = now;
}

void BootLog::BinlAnswered(Clock::time_point now, const wire::MacAddr& mac,
                           wire::Ipv4 client_ip, const char* arch,
                           const std::string& file) {
  Client* c = Find(mac, true, now);
  if (c->stage != Stage::kOffered && c->stage != Stage::kBinl) {
    // A 4011 request without an offer seen (the table forgot it, or the
    // daemon started mid-boot): a boot starting here.
    Restart(*c, now);
  }
  c->arch = arch;
  if (!c->binl_at) c->binl_at = now - c->start;
  c->stage = Stage::kBinl;
  c->offered_file = file;
  c->last = now;
  SetIp(*c, client_ip);
}

void BootLog::TransferStarted(Clock::time_point now, wire::Ipv4 client_ip,
                              const std::string& file) {
  Client* c = ByIp(client_ip, file, now);
  if (c == nullptr || c->reported) return;
  c->last = now;
}

void BootLog::TransferRefused(Clock::time_point now, wire::Ipv4 client_ip,
                              const std::string& file,
                              const std::string& reason) {
  Client* c = ByIp(client_ip, file, now);
  if (c == nullptr || c->reported || c->stage >= Stage::kBootFile) return;
  c->file = file;
  c->failure = absl::StrCat(capture::kFindingTftpError, " (", reason, ")");
}

void BootLog::TransferEnded(Clock::time_point now, wire::Ipv4 client_ip,
                            const std::string& file, TransferEnd end,
                            uint64_t bytes, uint64_t acked_blocks,
                            Clock::duration took) {
  Client* c = ByIp(client_ip, file, now);
  if (c == nullptr || c->reported) return;
  if (end == TransferEnd::kDone) {
    c->stage = std::max(c->stage, Stage::kBootFile);
    c->file = file;
    c->bytes = bytes;
    c->took = took;
    c->file_at = now - c->start;
    c->failure.clear();
    c->last = now;
    return;
  }
  if (c->stage >= Stage::kBootFile) return;  // a later file: not the boot
  c->file = file;
  switch (end) {
    case TransferEnd::kClientError:
      // Often on purpose: PXE ROMs read tsize from the OACK, abort, and ask
      // again. Only a stall (no later transfer) makes it a finding.
      c->failure = capture::kFindingTftpError;
      break;
    case TransferEnd::kTimeout:
    case TransferEnd::kEvicted:
      c->failure = acked_blocks == 0 ? capture::kFindingTftpNoAckAfterOack
                                     : capture::kFindingTftpIncomplete;
      break;
    default:
      c->failure = capture::kFindingTftpIncomplete;
      break;
  }
  c->failure = absl::StrCat(c->failure, " (", TransferEndName(end), ")");
}

std::string BootLog::Describe(const Client& c) const {
  std::string out = "offer +0.0s";
  if (c.offers > 1) absl::StrAppend(&out, " (", c.offers, " offers)");
  if (c.binl_at) absl::StrAppend(&out, ", 4011 ", Seconds(*c.binl_at));
  if (c.file_at) {
    absl::StrAppend(
        &out, ", ", Printable(c.file), " ", c.bytes, " B in ",
        std::chrono::duration_cast<std::chrono::milliseconds>(c.took).count(),
        " ms");
  }
  return out;
}

std::optional<std::string> BootLog::MenuOffered(Clock::time_point now,
                                                const wire::MacAddr& mac,
                                                const char* arch) {
  Client* c = Find(mac, true, now);
  if (c->reported && c->stage == Stage::kMenuOffered) return std::nullopt;
  if (c->stage < Stage::kOffered) {
    // iPXE without a PXE stage seen (iPXE in ROM, or the table forgot it).
    c->start = now;
    c->arch = arch;
  }
  c->stage = Stage::kMenuOffered;
  c->reported = true;
  c->last = now;
  std::string line =
      absl::StrCat("boot mac=", wire::FormatMac(mac), " arch=", c->arch);
  if (c->offers > 0) absl::StrAppend(&line, " ", Describe(*c), ",");
  absl::StrAppend(&line, " iPXE menu ", Seconds(now - c->start));
  return line;
}

std::vector<std::string> BootLog::Tick(Clock::time_point now) {
  std::vector<std::string> lines;
  // Oldest activity last: walk from the back while entries are old enough;
  // the reported ones stay (for the next boot's history) until evicted.
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    Client& c = *it;
    if (c.reported || c.stage < Stage::kOffered) continue;
    if (now - c.last < options_.stall) continue;
    c.reported = true;
    std::string finding;
    std::string waiting;
    if (!c.failure.empty()) {
      finding = c.failure;
      waiting = absl::StrCat("the transfer of ", Printable(c.file), " failed");
    } else if (c.stage == Stage::kOffered) {
      if (c.offers > 1) finding = capture::kFindingEdk2DroppedProxyOffer;
      waiting = "no port 4011 request or TFTP read followed";
    } else if (c.stage == Stage::kBinl) {
      waiting = "no TFTP read followed";
    } else {
      waiting = "iPXE never came back (no DHCP request from iPXE)";
    }
    std::string line =
        absl::StrCat("boot stalled mac=", wire::FormatMac(c.mac),
                     " arch=", c.arch, " stage=", capture::StageName(c.stage));
    if (!finding.empty()) absl::StrAppend(&line, " finding=", finding);
    absl::StrAppend(
        &line, ": ", Describe(c), "; ", waiting, " within ",
        std::chrono::duration_cast<std::chrono::seconds>(options_.stall)
            .count(),
        "s");
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace metrics
