// boot_storm's state machine: what each machine sends next, and what it
// makes of an answer or a timeout.
#include "tests/tools/boot_storm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "wire/tftp_packet.h"

namespace boot_storm {

bool Storm::LoadTemplates() {
  std::string err;
  if (boot_storm::LoadTemplates(o_.pcap, &templates_, &err)) return true;
  std::fprintf(stderr, "boot_storm: %s: %s\n", o_.pcap.c_str(), err.c_str());
  return false;
}

int Storm::OpenUdp(uint32_t ip, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void Storm::Arm(uint32_t i, std::chrono::milliseconds after) {
  Machine& m = m_[i];
  m.deadline = Clock::now() + after;
  timers_.push({m.deadline, i, ++m.timer_gen});
}

void Storm::Advance(uint32_t i, Stage s) {
  Machine& m = m_[i];
  m.stage = s;
  m.tries = 0;
}

void Storm::Fail(uint32_t i, const char* why) {
  Machine& m = m_[i];
  ++failures_[m.stage];
  ++why_[std::string(kStageNames[m.stage]) + ": " + why];
  if (m.fd >= 0) close(m.fd);
  m.fd = -1;
  m.stage = kFailed;
  ++m.timer_gen;
  ++finished_;
}

void Storm::SendDiscover(uint32_t i, bool ipxe) {
  Machine& m = m_[i];
  by_xid_.erase(m.xid);
  m.xid = ++xid_seq_;
  by_xid_[m.xid] = i;
  std::vector<uint8_t> frame =
      boot_storm::DiscoverFrame(templates_, ipxe, m.mac, m.xid);
  if (!packet_->Send(frame).ok()) ++why_["send error"];
  Arm(i, std::chrono::seconds(4));
}

void Storm::Send4011(uint32_t i) {
  Machine& m = m_[i];
  if (m.fd < 0) m.fd = OpenUdp(m.ip, 4011);
  if (m.fd < 0) return Fail(i, "cannot bind port 4011");
  epoll_event ev{EPOLLIN, {.u32 = i}};
  epoll_ctl(epoll_, EPOLL_CTL_ADD, m.fd, &ev);
  by_xid_.erase(m.xid);
  m.xid = ++xid_seq_;
  by_xid_[m.xid] = i;
  std::vector<uint8_t> payload =
      boot_storm::Request4011(templates_, m.mac, m.ip, m.xid, m.menu_item);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(o_.server);
  to.sin_port = htons(4011);
  sendto(m.fd, payload.data(), payload.size(), 0,
         reinterpret_cast<sockaddr*>(&to), sizeof(to));
  Arm(i, std::chrono::seconds(4));
}

void Storm::SendTftp(uint32_t i, const std::vector<uint8_t>& pkt) {
  Machine& m = m_[i];
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(m.tftp_server);
  to.sin_port = htons(m.tid_port != 0 ? m.tid_port : 69);
  sendto(m.fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
         sizeof(to));
}

void Storm::SendRrq(uint32_t i, bool new_port) {
  Machine& m = m_[i];
  if (new_port) {
    // A fresh client port per download (the tsize probe, then the file), as
    // EDK2; a retransmitted RRQ leaves from the same one.
    if (m.fd >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, m.fd, nullptr);
      close(m.fd);
    }
    m.fd = OpenUdp(m.ip, 0);
    if (m.fd < 0) return Fail(i, "cannot bind a TFTP port");
    epoll_event ev{EPOLLIN, {.u32 = i}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, m.fd, &ev);
  }
  m.tid_port = 0;
  m.next_block = 1;
  m.received = 0;
  m.blksize = 512;
  m.window = 1;
  SendTftp(i, boot_storm::BuildRrq(m.boot_file, o_.bios, m.probing));
  Arm(i, kTftpTimeout);
}

void Storm::Ack(uint32_t i, uint16_t block) {
  SendTftp(i, wire::BuildTftpAck(block));
}

void Storm::Start(uint32_t i) {
  Machine& m = m_[i];
  m.start = Clock::now();
  SendDiscover(i, false);
}

void Storm::OnOffer(uint32_t i, const DhcpMessage& msg) {
  Machine& m = m_[i];
  boot_storm::Trace("offer", msg);
  if (msg.xid != m.xid) return;
  if (m.stage == kOffer && o_.discover_only) {
    to_menu_ms_.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - m.start)
            .count());
    by_xid_.erase(m.xid);
    m.stage = kDone;
    ++m.timer_gen;
    ++finished_;
    return;
  }
  if (m.stage == kOffer) {
    // binl: a PXE offer without a file sends the client to 4011; bypass:
    // the file is in the offer itself.
    std::optional<std::string> file = boot_storm::BootFileOf(msg);
    if (file) {
      m.boot_file = *file;
      m.tftp_server = msg.siaddr != 0 ? msg.siaddr : o_.server;
      Advance(i, kTftp);
      m.probing = !o_.bios;
      return SendRrq(i);
    }
    m.menu_item = boot_storm::FirstMenuItem(msg);
    Advance(i, kAck4011);
    return Send4011(i);
  }
  if (m.stage == kMenu) {
    std::optional<std::string> file = boot_storm::BootFileOf(msg);
    if (!file || *file != o_.menu_url) {
      return Fail(i, "iPXE offered something else than the menu URL");
    }
    to_menu_ms_.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - m.start)
            .count());
    by_xid_.erase(m.xid);
    m.stage = kDone;
    ++m.timer_gen;
    ++finished_;
  }
}

void Storm::OnPacketSocket() {
  for (;;) {
    proxydhcp::ReceiveMeta meta;
    auto f = packet_->ReceiveFrame(&meta);
    if (!f.ok() || !f->has_value()) return;
    auto udp = wire::ParseEthernetUdp(**f);
    if (!udp.ok() || udp->src_port != 67 || udp->dst_port != 68) continue;
    auto msg = wire::ParseDhcp(udp->payload);
    if (!msg.ok() || msg->op != wire::kBootReply) continue;
    ++dhcp_replies_;
    auto it = by_xid_.find(msg->xid);
    if (it == by_xid_.end()) continue;
    OnOffer(it->second, *msg);
  }
}

void Storm::OnTftp(uint32_t i, const uint8_t* p, size_t n, uint16_t from) {
  Machine& m = m_[i];
  absl::StatusOr<wire::TftpPacket> tftp =
      wire::ParseTftpPacket(absl::MakeConstSpan(p, n), n);
  if (!tftp.ok()) return;
  const wire::TftpOpcode op = tftp->op;
  const uint16_t block = tftp->block;
  if (m.tid_port == 0) m.tid_port = from;
  if (from != m.tid_port) return;
  if (op == wire::TftpOpcode::kError) {
    return Fail(i,
                ("TFTP error from the server: " + tftp->error_message).c_str());
  }
  if (op == wire::TftpOpcode::kOack) {
    if (m.probing) {
      // OVMF: the size is known, abort (error 0) and ask again for the data.
      SendTftp(i, wire::BuildTftpError(wire::TftpErrorCode::kNotDefined,
                                       "tsize only"));
      m.probing = false;
      return SendRrq(i);
    }
    boot_storm::ReadOack(*tftp, &m.blksize, &m.window);
    Ack(i, 0);
    Arm(i, kTftpTimeout);
    return;
  }
  if (op != wire::TftpOpcode::kData || m.probing) return;
  if (block != static_cast<uint16_t>(m.next_block)) {
    // Out of order or a repeat: RFC 7440 says ack the last good block.
    Ack(i, static_cast<uint16_t>(m.next_block - 1));
    return;
  }
  const size_t len = n - 4;
  if (m.received + len > file_.size() ||
      std::memcmp(p + 4, file_.data() + m.received, len) != 0) {
    return Fail(i, "TFTP data differs from the boot file");
  }
  m.received += len;
  ++m.next_block;
  const bool last = len < m.blksize;
  if (last || (m.next_block - 1) % m.window == 0) Ack(i, block);
  if (!last) {
    Arm(i, kTftpTimeout);
    return;
  }
  if (m.received != file_.size()) return Fail(i, "TFTP file short");
  epoll_ctl(epoll_, EPOLL_CTL_DEL, m.fd, nullptr);
  close(m.fd);
  m.fd = -1;
  Advance(i, kMenu);
  SendDiscover(i, true);
}

void Storm::OnMachineFd(uint32_t i) {
  Machine& m = m_[i];
  uint8_t buf[65536];
  for (;;) {
    if (m.fd < 0) return;
    sockaddr_in from{};
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(m.fd, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < 0) return;
    if (m.stage == kAck4011) {
      auto msg = wire::ParseDhcp(absl::MakeConstSpan(buf, n));
      if (!msg.ok() || msg->xid != m.xid) continue;
      boot_storm::Trace("ack", *msg);
      std::optional<std::string> file = boot_storm::BootFileOf(*msg);
      if (!file) {
        std::string codes;
        for (const auto& [code, v] : msg->options.all()) {
          codes += " " + std::to_string(code);
        }
        return Fail(i, ("ACK without a boot file; options" + codes).c_str());
      }
      m.boot_file = *file;
      m.tftp_server = msg->siaddr != 0 ? msg->siaddr : o_.server;
      Advance(i, kTftp);
      m.probing = !o_.bios;
      return SendRrq(i);
    }
    if (m.stage == kTftp) OnTftp(i, buf, n, ntohs(from.sin_port));
  }
}

void Storm::OnTimer(uint32_t i) {
  Machine& m = m_[i];
  if (m.stage >= kDone) return;
  const int max_tries = m.stage == kTftp ? kMaxTftpTries : kMaxDhcpTries;
  if (++m.tries >= max_tries) return Fail(i, "no answer after all tries");
  ++retries_[m.stage];
  switch (m.stage) {
    case kOffer:
      return SendDiscover(i, false);
    case kAck4011:
      return Send4011(i);
    case kTftp:
      // Before the first packet the RRQ was lost; after it, an ACK.
      if (m.tid_port == 0) {
        ++rrq_retries_;
        return SendRrq(i, /*new_port=*/false);
      }
      Ack(i, static_cast<uint16_t>(m.next_block - 1));
      return Arm(i, kTftpTimeout);
    case kMenu:
      return SendDiscover(i, true);
    default:
      return;
  }
}

}  // namespace boot_storm
