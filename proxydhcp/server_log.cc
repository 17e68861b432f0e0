// The proxyDHCP loop's log lines: the addresses served, ignored frames
// (rate-limited where a hostile sender chooses them), and replies (one line
// each up to a burst a second, then a summary line).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "metrics/pxeproxy_metrics.h"
#include "proxydhcp/server.h"

namespace proxydhcp {

void Server::LogAddresses() {
  // Netlink reports every link and address event (IPv6 too): log a line only
  // when what an interface serves with has changed.
  for (const Listener& l : listeners_) {
    std::optional<InterfaceInfo> info = monitor_->ByName(l.name);
    std::string line;
    if (!info) {
      line = absl::StrCat("interface ", l.name, " has disappeared");
    } else if (info->ipv4.empty()) {
      line = absl::StrCat("interface ", l.name,
                          " has no IPv4 address: its clients are ignored "
                          "until one is added");
    } else {
      std::vector<std::string> addrs;
      for (const IfAddr& a : info->ipv4) {
        addrs.push_back(
            absl::StrCat(wire::FormatIpv4(a.ip), "/", a.prefix_len));
      }
      line = absl::StrCat("serving ", l.name, " ", absl::StrJoin(addrs, ", "),
                          " mac ", wire::FormatMac(info->mac));
    }
    std::string& last = logged_[l.name];
    if (line == last) continue;
    last = line;
    if (info && !info->ipv4.empty()) {
      LOG(INFO) << line;
    } else {
      LOG(WARNING) << line;
    }
  }
}

void Server::LogIgnore(const Listener& l, const Ignore& ig) {
  const char* reason = IgnoreReasonName(ig.reason);
  ++counters_.ignored[reason];
  if (metrics_) metrics_->DhcpIgnored(ig.reason);
  auto describe = [&] {
    std::vector<std::string> parts;
    if (ig.mac) {
      parts.push_back(absl::StrFormat("mac=%s xid=0x%08x",
                                      wire::FormatMac(*ig.mac), ig.xid));
    }
    if (ig.address != 0) {
      parts.push_back(absl::StrCat("addr=", wire::FormatIpv4(ig.address)));
    }
    if (!ig.detail.empty()) parts.push_back(ig.detail);
    return absl::StrJoin(parts, " ");
  };
  // Frames a hostile or broken sender chose: one line per reason per 10 s
  // (with how many were suppressed); the counters stay exact. Ordinary
  // silence (a non-PXE client, a REQUEST for the real server) only at -v 1.
  const bool hostile = ig.reason == IgnoreReason::kBadChecksum ||
                       ig.reason == IgnoreReason::kBadSource ||
                       ig.reason == IgnoreReason::kBadRelayAddress ||
                       ig.reason == IgnoreReason::kReversePath ||
                       ig.reason == IgnoreReason::kReplyTooLarge;
  if (hostile) {
    if (auto n = log_limiter_.Admit(reason, wire::LogLimiter::Clock::now())) {
      LOG(WARNING) << "ignore reason=" << reason << " if=" << l.name << " "
                   << describe() << wire::LogLimiter::Suffix(*n);
    }
    return;
  }
  VLOG(1) << "ignore reason=" << reason << " if=" << l.name << " "
          << describe();
}

void Server::LogReply(const Listener& l, const Reply& reply, int error,
                      std::chrono::steady_clock::time_point received_at) {
  const auto now = wire::LogLimiter::Clock::now();
  auto who = [&] {
    return absl::StrFormat("mac=%s xid=0x%08x",
                           wire::FormatMac(reply.message.mac()),
                           reply.message.xid);
  };
  if (error != 0) {
    ++counters_.send_errors;
    if (metrics_) metrics_->DhcpSendError();
    if (auto n = log_limiter_.Admit("send_error", now)) {
      LOG(ERROR) << "send failed " << who() << " if=" << l.name << ": "
                 << absl::ErrnoToStatus(error, "send")
                 << wire::LogLimiter::Suffix(*n);
    }
    return;
  }
  ++counters_.replied;
  // One line per reply, but a LAN can ask for 100,000 replies a second:
  // past kReplyLogBurst lines a second the rest are counted and summed up
  // in one line (LogReplySummary); the counters stay exact.
  if (metrics_) {
    metrics_->DhcpReplied(reply,
                          std::chrono::steady_clock::now() - received_at);
  }
  std::optional<uint64_t> n = reply_log_.Admit("reply", now);
  if (!n) {
    reply_summary_due_ = true;
    return;
  }
  LOG(INFO) << wire::MessageTypeName(*reply.message.message_type()) << " "
            << who() << " if=" << l.name
            << " arch=" << ArchName(reply.client.arch)
            << " client=" << ClientKindName(reply.client.kind)
            << " file=" << reply.boot_file << " port=" << reply.src_port
            << " to=" << wire::FormatIpv4(reply.dst_ip) << ":" << reply.dst_port
            << (*n != 0 ? absl::StrCat(" (", *n, " more replies not logged)")
                        : "");
}

void Server::LogReplySummary() {
  if (!reply_summary_due_) return;
  const auto now = wire::LogLimiter::Clock::now();
  if (now - last_reply_summary_ < std::chrono::seconds(1)) return;
  last_reply_summary_ = now;
  reply_summary_due_ = false;
  if (uint64_t n = reply_log_.TakeSuppressed("reply"); n != 0) {
    LOG(INFO) << "sent " << n
              << " more replies not logged one by one (more than "
              << kReplyLogBurst << " a second; " << counters_.replied
              << " replies in all)";
  }
}

}  // namespace proxydhcp
