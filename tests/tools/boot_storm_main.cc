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
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "absl/strings/numbers.h"
#include "tests/tools/boot_storm.h"

namespace boot_storm {

bool Storm::Setup() {
  if (!LoadTemplates()) {
    std::fprintf(stderr, "boot_storm: the capture lacks the frames it needs\n");
    return false;
  }
  auto filter = proxydhcp::CompileBpf("udp src port 67 and udp dst port 68");
  if (!filter.ok()) return false;
  // A ring as deep as the server's: 10,000 OFFERs arrive while the
  // generator is still sending DISCOVERs, and a socket buffer lost some
  // (the server had sent them all: its own ceiling, not the server's).
  auto sock = proxydhcp::PacketSocket::Open(if_nametoindex(o_.iface.c_str()),
                                            *filter, proxydhcp::kDefaultRing);
  if (!sock.ok()) {
    std::fprintf(stderr, "boot_storm: %s\n", sock.status().ToString().c_str());
    return false;
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
  return true;
}

int Storm::Run() {
  if (!Setup()) return 2;
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

}  // namespace boot_storm

int main(int argc, char** argv) {
  if (argc < 9 || argc > 11) {
    std::fprintf(stderr,
                 "usage: %s IFACE SERVER_IP FIRST_CLIENT_IP N SPREAD_MS PCAP "
                 "BOOT_FILE_PATH MENU_URL [uefi|bios|discover] [TIMEOUT_S]\n",
                 argv[0]);
    return 2;
  }
  boot_storm::Options o;
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
  return boot_storm::Storm(o, std::move(file)).Run();
}
