// Boot-storm load generator (scripts/bench-storm): N simulated UEFI (or BIOS)
// machines, each running the whole chain against a proxyDHCP + TFTP server,
// one epoll thread for all of them. Not a test: it prints numbers.
//
// Honest by construction: every request is a real firmware frame replayed
// from tests/fixtures/captures/ovmf-edk2-pxe-to-ipxe-efi.pcap (EDK2 DISCOVER,
// EDK2 port-4011 REQUEST, iPXE DISCOVER) with the machine's own MAC, xid and
// IPv4 address; a machine counts only when every stage completed with its own
// xids and the boot file arrived byte for byte equal to the file on disk:
//   DISCOVER -> proxy OFFER -> REQUEST on 4011 -> ACK (boot file, siaddr)
//   -> TFTP RRQ (UEFI: tsize probe, then blksize 1468 windowsize 4, as OVMF;
//      BIOS: blksize 1456 lock-step) -> every block compared
//   -> DISCOVER as iPXE (options 77, 175) -> OFFER carrying the menu URL.
// A reply that never comes is retried as EDK2 does (PxeBcDxe: DHCP 4 tries,
// TFTP after PXEBC_MTFTP_TIMEOUT = 4 s, PXEBC_MTFTP_RETRIES = 6 tries; the
// DHCP waits are a flat 4 s here, not EDK2's 4, 8, 16, 32) and the retry is
// counted by stage: "no request lost" means every retry counter is 0.
//
// Each machine has its own IPv4 address (the caller adds them to IFACE), so a
// server's per-source limits apply as on a real network.
//
//   boot_storm IFACE SERVER_IP FIRST_CLIENT_IP N SPREAD_MS PCAP BOOT_FILE_PATH
//              MENU_URL [uefi|bios|discover] [TIMEOUT_S]
// `discover`: the proxyDHCP server alone (a machine is done at its OFFER).
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "proxydhcp/packet_io.h"
#include "tests/tools/boot_storm_frames.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"
#include "wire/tftp_packet.h"
#include "wire/udp_frame.h"

namespace {

using Clock = std::chrono::steady_clock;
using wire::DhcpMessage;

enum Stage { kOffer, kAck4011, kTftp, kMenu, kDone, kFailed, kStages };
const char* const kStageNames[] = {"discover", "4011", "tftp",
                                   "ipxe",     "done", "failed"};
constexpr int kMaxDhcpTries = 5;  // the first and PXEBC_DHCP_RETRIES more
constexpr int kMaxTftpTries = 6;  // PXEBC_MTFTP_RETRIES
constexpr auto kTftpTimeout = std::chrono::seconds(4);  // PXEBC_MTFTP_TIMEOUT

struct Machine {
  wire::MacAddr mac{};
  uint32_t ip = 0;
  uint32_t xid = 0;
  Stage stage = kOffer;
  int tries = 0;
  int fd = -1;            // 4011 socket, then the TFTP socket
  uint16_t tid_port = 0;  // the server's transfer port
  bool probing = false;   // the tsize probe (UEFI)
  uint32_t next_block = 1;
  uint64_t received = 0;
  // What the server's OACK granted (RFC 2348, RFC 7440): without an OACK,
  // or an option missing from it, 512-byte blocks acknowledged one by one.
  uint16_t blksize = 512;
  uint16_t window = 1;
  std::optional<uint16_t> menu_item;  // from the proxy OFFER
  std::string boot_file;
  uint32_t tftp_server = 0;
  Clock::time_point start, deadline;
  uint64_t timer_gen = 0;
};

struct Timer {
  Clock::time_point when;
  uint32_t machine;
  uint64_t gen;
  bool operator>(const Timer& o) const { return when > o.when; }
};

struct Options {
  std::string iface;
  uint32_t server = 0, first_ip = 0;
  int n = 0, spread_ms = 0, timeout_s = 120;
  std::string pcap, boot_path, menu_url;
  bool bios = false;
  bool discover_only = false;  // proxyDHCP alone: done at the proxy OFFER
};

class Storm {
 public:
  Storm(const Options& o, std::vector<uint8_t> file) : o_(o), file_(file) {}
  int Run();

 private:
  bool LoadTemplates();
  void Start(uint32_t i);
  void SendDiscover(uint32_t i, bool ipxe);
  void Send4011(uint32_t i);
  void SendRrq(uint32_t i, bool new_port = true);
  void SendTftp(uint32_t i, const std::vector<uint8_t>& pkt);
  void Ack(uint32_t i, uint16_t block);
  void OnPacketSocket();
  void OnOffer(uint32_t i, const DhcpMessage& m);
  void OnMachineFd(uint32_t i);
  void OnTftp(uint32_t i, const uint8_t* p, size_t n, uint16_t from_port);
  void Arm(uint32_t i, std::chrono::milliseconds after);
  void OnTimer(uint32_t i);
  void Advance(uint32_t i, Stage s);
  void Fail(uint32_t i, const char* why);
  int OpenUdp(uint32_t ip, uint16_t port);
  void Report();

  Options o_;
  std::vector<uint8_t> file_;
  boot_storm::Templates templates_;
  std::unique_ptr<proxydhcp::PacketSocket> packet_;
  int epoll_ = -1;
  std::vector<Machine> m_;
  std::unordered_map<uint32_t, uint32_t> by_xid_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t retries_[kStages] = {}, failures_[kStages] = {};
  std::map<std::string, uint64_t> why_;
  std::vector<double> to_menu_ms_;
  int finished_ = 0;
  uint64_t dhcp_replies_ = 0;
  uint64_t rrq_retries_ = 0;  // of retries_tftp: an RRQ with no answer  //
                              // every reply from port 67, retries' included
  uint32_t xid_seq_ = 0x7a000000;
  Clock::time_point t0_;
};

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

int Storm::Run() {
  if (!LoadTemplates()) {
    std::fprintf(stderr, "boot_storm: the capture lacks the frames it needs\n");
    return 2;
  }
  auto filter = proxydhcp::CompileBpf("udp src port 67 and udp dst port 68");
  if (!filter.ok()) return 2;
  // A ring as deep as the server's: 10,000 OFFERs arrive while the
  // generator is still sending DISCOVERs, and a socket buffer lost some
  // (the server had sent them all: its own ceiling, not the server's).
  auto sock = proxydhcp::PacketSocket::Open(if_nametoindex(o_.iface.c_str()),
                                            *filter, proxydhcp::kDefaultRing);
  if (!sock.ok()) {
    std::fprintf(stderr, "boot_storm: %s\n", sock.status().ToString().c_str());
    return 2;
  }
  packet_ = std::move(*sock);
  rlimit rl{static_cast<rlim_t>(o_.n) * 2 + 1024,
            static_cast<rlim_t>(o_.n) * 2 + 1024};
  setrlimit(RLIMIT_NOFILE, &rl);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{EPOLLIN, {.u32 = UINT32_MAX}};
  epoll_ctl(epoll_, EPOLL_CTL_ADD, packet_->fd(), &ev);
  m_.resize(o_.n);
  for (int i = 0; i < o_.n; ++i) {
    m_[i].mac = {0x02,
                 0x5b,
                 static_cast<uint8_t>(i >> 24),
                 static_cast<uint8_t>(i >> 16),
                 static_cast<uint8_t>(i >> 8),
                 static_cast<uint8_t>(i)};
    m_[i].ip = o_.first_ip + i;
  }
  t0_ = Clock::now();
  const auto end = t0_ + std::chrono::seconds(o_.timeout_s);
  int started = 0;
  std::vector<epoll_event> events(1024);
  while (finished_ < o_.n && Clock::now() < end) {
    // Arrivals: machine i powers on at i * spread / n.
    const auto now = Clock::now();
    while (started < o_.n &&
           (o_.spread_ms == 0 ||
            now - t0_ >= std::chrono::microseconds(
                             int64_t{started} * o_.spread_ms * 1000 / o_.n))) {
      Start(started++);
    }
    while (!timers_.empty() && timers_.top().when <= Clock::now()) {
      Timer t = timers_.top();
      timers_.pop();
      if (t.gen == m_[t.machine].timer_gen) OnTimer(t.machine);
    }
    int wait_ms = started < o_.n ? 1 : 50;
    if (!timers_.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      timers_.top().when - Clock::now())
                      .count();
      wait_ms = std::max<int>(0, std::min<int64_t>(wait_ms, left + 1));
    }
    int n = epoll_wait(epoll_, events.data(), events.size(), wait_ms);
    for (int k = 0; k < n; ++k) {
      if (events[k].data.u32 == UINT32_MAX) {
        OnPacketSocket();
      } else {
        OnMachineFd(events[k].data.u32);
      }
    }
  }
  for (uint32_t i = 0; i < m_.size(); ++i) {
    if (m_[i].stage < kDone) Fail(i, "still running at the time limit");
  }
  Report();
  return 0;
}

void Storm::Report() {
  std::sort(to_menu_ms_.begin(), to_menu_ms_.end());
  auto pct = [&](double q) {
    if (to_menu_ms_.empty()) return 0.0;
    return to_menu_ms_[std::min(to_menu_ms_.size() - 1,
                                static_cast<size_t>(q * to_menu_ms_.size()))];
  };
  const double wall = std::chrono::duration<double>(Clock::now() - t0_).count();
  std::printf(
      "clients=%d completed=%zu failed=%d wall_s=%.2f p50_ms=%.0f "
      "p99_ms=%.0f max_ms=%.0f dhcp_replies=%lu",
      o_.n, to_menu_ms_.size(), o_.n - static_cast<int>(to_menu_ms_.size()),
      wall, pct(0.5), pct(0.99), to_menu_ms_.empty() ? 0.0 : to_menu_ms_.back(),
      static_cast<unsigned long>(dhcp_replies_));
  for (int s = kOffer; s <= kMenu; ++s) {
    std::printf(" retries_%s=%lu", kStageNames[s],
                static_cast<unsigned long>(retries_[s]));
  }
  std::printf(" of_which_rrq=%lu\n", static_cast<unsigned long>(rrq_retries_));
  for (const auto& [why, count] : why_) {
    std::printf("  failure %s: %lu\n", why.c_str(),
                static_cast<unsigned long>(count));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9 || argc > 11) {
    std::fprintf(stderr,
                 "usage: %s IFACE SERVER_IP FIRST_CLIENT_IP N SPREAD_MS PCAP "
                 "BOOT_FILE_PATH MENU_URL [uefi|bios|discover] [TIMEOUT_S]\n",
                 argv[0]);
    return 2;
  }
  Options o;
  o.iface = argv[1];
  auto server = wire::ParseIpv4(argv[2]);
  auto first = wire::ParseIpv4(argv[3]);
  if (!server || !first || !absl::SimpleAtoi(argv[4], &o.n) || o.n <= 0 ||
      !absl::SimpleAtoi(argv[5], &o.spread_ms) || o.spread_ms < 0) {
    std::fprintf(stderr, "boot_storm: bad address or number\n");
    return 2;
  }
  o.server = *server;
  o.first_ip = *first;
  o.pcap = argv[6];
  o.boot_path = argv[7];
  o.menu_url = argv[8];
  if (argc > 9) {
    o.bios = std::string(argv[9]) == "bios";
    o.discover_only = std::string(argv[9]) == "discover";
  }
  if (argc > 10 && !absl::SimpleAtoi(argv[10], &o.timeout_s)) return 2;
  std::ifstream in(o.boot_path, std::ios::binary);
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    std::fprintf(stderr, "boot_storm: cannot read %s\n", o.boot_path.c_str());
    return 2;
  }
  return Storm(o, std::move(file)).Run();
}
