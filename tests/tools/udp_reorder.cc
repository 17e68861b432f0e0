// A user-space Ethernet bridge between two interfaces that reorders UDP:
// for the TFTP fault test (faults), where the kernel has no sch_netem.
// Every frame read on one interface is written to the other. Each IPv4 UDP
// flow (addresses and ports, each direction on its own) has every N-th
// frame held back and sent right after the flow's next frame, so the two
// swap places, or after --hold_ms when the flow sends nothing more (a
// lock-step transfer: the frame is late, and with a hold longer than the
// sender's timeout it comes after the retransmission it provoked). Other
// flows pass meanwhile: each flow is reordered at the same rate whatever
// else shares the wire.
//
//   udp_reorder IFACE_A IFACE_B [--every=N] [--hold_ms=MS]
//     --every=N    hold back the N-th, 2N-th... UDP frame each way (10);
//                  0: a plain bridge
//     --hold_ms=MS release a held frame after MS without a next frame (200)
//
// Runs until SIGTERM or SIGINT, then prints one line per direction:
//   "udp_reorder A>B: frames=F udp=U flows=N held=H swapped=S late=L
//    oversize=O send_errors=E"
// (swapped: released behind a later frame; late: released by the timer;
// oversize: a frame larger than the MTU, i.e. a GSO super-packet the sender
// did not segment: forwarded whole, so the test can insist on none.)
// Frames sent from this host have their UDP checksum left for the
// hardware (TP_STATUS_CSUMNOTREADY): it is computed here before the frame
// goes out, or the receiver would drop it.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

using Clock = std::chrono::steady_clock;

struct Side {
  std::string name;
  int fd = -1;
  int mtu = 1500;
};

struct Direction {
  Side* in = nullptr;
  Side* out = nullptr;
  uint64_t frames = 0, udp = 0, held_count = 0, swapped = 0, late = 0,
           oversize = 0, send_errors = 0;
  struct Flow {
    uint64_t frames = 0;
    std::optional<std::vector<uint8_t>> held;
    Clock::time_point deadline;
  };
  std::map<std::string, Flow> flows;
};

int OpenSide(Side& s) {
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    perror("socket(AF_PACKET)");
    return -1;
  }
  unsigned idx = if_nametoindex(s.name.c_str());
  if (idx == 0) {
    std::fprintf(stderr, "no interface %s\n", s.name.c_str());
    return -1;
  }
  int one = 1;
  // Our own sends on this interface must not come back as input.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) <
      0) {
    perror("PACKET_IGNORE_OUTGOING");
    return -1;
  }
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  int buf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(idx);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    perror("bind");
    return -1;
  }
  packet_mreq mr{};
  mr.mr_ifindex = static_cast<int>(idx);
  mr.mr_type = PACKET_MR_PROMISC;
  setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", s.name.c_str());
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) s.mtu = ifr.ifr_mtu;
  s.fd = fd;
  return 0;
}

uint32_t Sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (; n > 1; p += 2, n -= 2) sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
  if (n) sum += static_cast<uint32_t>(p[0] << 8);
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

// The UDP header offset of an IPv4 UDP frame (unfragmented), or 0.
size_t UdpOffset(const std::vector<uint8_t>& f, size_t len) {
  if (len < 14 + 20 + 8) return 0;
  if (f[12] != 0x08 || f[13] != 0x00) return 0;
  const uint8_t* ip = f.data() + 14;
  if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP) return 0;
  size_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20 || 14 + ihl + 8 > len) return 0;
  if ((ip[6] & 0x1f) || ip[7]) return 0;  // a fragment
  return 14 + ihl;
}

// Fills in the UDP checksum the sending host left to the "hardware".
void FixUdpChecksum(std::vector<uint8_t>& f, size_t len, size_t udp) {
  const uint8_t* ip = f.data() + 14;
  size_t ulen = static_cast<size_t>(f[udp + 4] << 8 | f[udp + 5]);
  if (ulen < 8 || udp + ulen > len) return;
  f[udp + 6] = f[udp + 7] = 0;
  uint32_t sum = Sum16(ip + 12, 8, 0);  // source and destination
  sum += IPPROTO_UDP + static_cast<uint32_t>(ulen);
  sum = Sum16(f.data() + udp, ulen, sum);
  uint16_t c = Fold(sum);
  if (c == 0) c = 0xffff;
  f[udp + 6] = static_cast<uint8_t>(c >> 8);
  f[udp + 7] = static_cast<uint8_t>(c & 0xff);
}

void Send(Direction& d, const uint8_t* p, size_t n) {
  for (int tries = 0; tries < 100; ++tries) {
    if (send(d.out->fd, p, n, 0) == static_cast<ssize_t>(n)) return;
    if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) break;
    usleep(100);
  }
  ++d.send_errors;
}

void Release(Direction& d, Direction::Flow& flow, bool late) {
  if (!flow.held) return;
  Send(d, flow.held->data(), flow.held->size());
  flow.held.reset();
  ++(late ? d.late : d.swapped);
}

// Reads one frame of direction d, forwards it (or holds it back).
void Pump(Direction& d, int every, int hold_ms) {
  static std::vector<uint8_t> f(65536 + 64);
  alignas(tpacket_auxdata) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  iovec iov{f.data(), f.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(d.in->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
  if (n <= 0) return;
  size_t len = static_cast<size_t>(n);
  if (len > f.size()) len = f.size();
  uint32_t status = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      status = aux.tp_status;
    }
  }
  ++d.frames;
  if (len > static_cast<size_t>(d.in->mtu) + 14) ++d.oversize;
  size_t udp = UdpOffset(f, len);
  if (udp && (status & TP_STATUS_CSUMNOTREADY)) FixUdpChecksum(f, len, udp);
  if (!udp) {
    Send(d, f.data(), len);
    return;
  }
  ++d.udp;
  // The flow: IPv4 source and destination, UDP ports.
  std::string key(f.begin() + 26, f.begin() + 34);
  key.append(f.begin() + static_cast<long>(udp),
             f.begin() + static_cast<long>(udp) + 4);
  Direction::Flow& flow = d.flows[key];
  if (every && ++flow.frames % static_cast<uint64_t>(every) == 0 &&
      !flow.held) {
    flow.held.emplace(f.begin(), f.begin() + static_cast<long>(len));
    flow.deadline = Clock::now() + std::chrono::milliseconds(hold_ms);
    ++d.held_count;
    return;
  }
  Send(d, f.data(), len);
  Release(d, flow, false);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: udp_reorder IFACE_A IFACE_B [--every=N] "
                 "[--hold_ms=MS]\n");
    return 2;
  }
  int every = 10, hold_ms = 200;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--every=", 0) == 0) {
      every = std::atoi(a.c_str() + 8);
    } else if (a.rfind("--hold_ms=", 0) == 0) {
      hold_ms = std::atoi(a.c_str() + 10);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (every == 1 || every < 0 || hold_ms < 1) {
    std::fprintf(stderr, "--every must be 0 or >= 2, --hold_ms >= 1\n");
    return 2;
  }
  Side a{argv[1]}, b{argv[2]};
  if (OpenSide(a) < 0 || OpenSide(b) < 0) return 1;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Direction ab, ba;
  ab.in = ba.out = &a;
  ab.out = ba.in = &b;
  std::printf("udp_reorder: bridging %s and %s, every %d, hold %d ms\n",
              a.name.c_str(), b.name.c_str(), every, hold_ms);
  std::fflush(stdout);
  while (!g_stop) {
    int timeout = -1;
    auto now = Clock::now();
    for (Direction* d : {&ab, &ba}) {
      for (auto& [key, flow] : d->flows) {
        if (!flow.held) continue;
        auto ms =
            std::chrono::ceil<std::chrono::milliseconds>(flow.deadline - now)
                .count();
        if (ms < 0) ms = 0;
        if (timeout < 0 || ms < timeout) timeout = static_cast<int>(ms);
      }
    }
    pollfd p[2] = {{a.fd, POLLIN, 0}, {b.fd, POLLIN, 0}};
    int r = poll(p, 2, timeout);
    if (r < 0 && errno != EINTR) {
      perror("poll");
      return 1;
    }
    // A burst of frames per wake-up, alternating directions.
    for (int i = 0; i < 64 && r > 0; ++i) {
      if (p[0].revents & POLLIN) Pump(ab, every, hold_ms);
      if (p[1].revents & POLLIN) Pump(ba, every, hold_ms);
    }
    now = Clock::now();
    for (Direction* d : {&ab, &ba}) {
      for (auto& [key, flow] : d->flows) {
        if (flow.held && now >= flow.deadline) Release(*d, flow, true);
      }
    }
  }
  for (Direction* d : {&ab, &ba}) {
    for (auto& [key, flow] : d->flows) Release(*d, flow, true);
    std::printf(
        "udp_reorder %s>%s: frames=%llu udp=%llu flows=%zu held=%llu "
        "swapped=%llu late=%llu oversize=%llu send_errors=%llu\n",
        d->in->name.c_str(), d->out->name.c_str(),
        static_cast<unsigned long long>(d->frames),
        static_cast<unsigned long long>(d->udp), d->flows.size(),
        static_cast<unsigned long long>(d->held_count),
        static_cast<unsigned long long>(d->swapped),
        static_cast<unsigned long long>(d->late),
        static_cast<unsigned long long>(d->oversize),
        static_cast<unsigned long long>(d->send_errors));
  }
  return 0;
}
