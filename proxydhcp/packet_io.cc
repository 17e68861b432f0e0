#include "proxydhcp/packet_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace proxydhcp {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

}  // namespace

absl::StatusOr<std::vector<sock_filter>> CompileBpf(const std::string& expr) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  if (dead == nullptr) return absl::InternalError("pcap_open_dead failed");
  bpf_program prog{};
  if (pcap_compile(dead, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string err = pcap_geterr(dead);
    pcap_close(dead);
    return absl::InvalidArgumentError(
        absl::StrCat("bpf filter '", expr, "': ", err));
  }
  std::vector<sock_filter> out(prog.bf_len);
  for (u_int i = 0; i < prog.bf_len; ++i) {
    out[i] = {prog.bf_insns[i].code, prog.bf_insns[i].jt, prog.bf_insns[i].jf,
              prog.bf_insns[i].k};
  }
  pcap_freecode(&prog);
  pcap_close(dead);
  return out;
}

absl::StatusOr<std::unique_ptr<PacketSocket>> PacketSocket::Open(
    int ifindex, const std::vector<sock_filter>& filter) {
  // Protocol 0 receives nothing until bind, so no frame slips past the filter.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket(AF_PACKET)");
  sock_fprog prog{static_cast<unsigned short>(filter.size()),
                  const_cast<sock_filter*>(filter.data())};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    absl::Status s = Errno("SO_ATTACH_FILTER");
    close(fd);
    return s;
  }
  // A boot storm (a rack powering on) arrives in one burst: a deep queue
  // keeps it from being dropped before the loop reads it. FORCE needs
  // CAP_NET_ADMIN; without it the kernel caps at net.core.rmem_max.
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) !=
      0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_IP);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    absl::Status s = Errno("bind(AF_PACKET)");
    close(fd);
    return s;
  }
  return std::unique_ptr<PacketSocket>(new PacketSocket(fd, ifindex));
}

PacketSocket::~PacketSocket() { close(fd_); }

absl::StatusOr<std::optional<std::vector<uint8_t>>> PacketSocket::Receive(
    bool* vlan_tagged) {
  ReceiveMeta meta;
  absl::StatusOr<std::optional<absl::Span<const uint8_t>>> f =
      ReceiveFrame(&meta);
  if (!f.ok()) return f.status();
  if (!f->has_value()) return std::nullopt;
  if (vlan_tagged != nullptr) *vlan_tagged = meta.vlan_tagged;
  return std::vector<uint8_t>((*f)->begin(), (*f)->end());
}

absl::StatusOr<std::optional<absl::Span<const uint8_t>>>
PacketSocket::ReceiveFrame(ReceiveMeta* meta) {
  for (;;) {
    sockaddr_ll from{};
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(fd_, &msg, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      if (errno == EINTR) continue;
      return Errno("recvmsg(AF_PACKET)");
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own replies
    *meta = ReceiveMeta{};
    meta->ifindex = from.sll_ifindex != 0 ? from.sll_ifindex : ifindex_;
    meta->other_host = from.sll_pkttype == PACKET_OTHERHOST;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
         c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) {
        continue;
      }
      tpacket_auxdata aux;
      memcpy(&aux, CMSG_DATA(c), sizeof(aux));
      // ISC dhcpd's lpf.c does the same: a tag means another segment.
      meta->vlan_tagged = (aux.tp_status & TP_STATUS_VLAN_VALID) != 0;
      // A frame from a local sender (a veth peer, a VM's tap) before
      // checksum offload completes it; or one the NIC already verified.
      meta->csum_not_ready = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
      meta->csum_valid = (aux.tp_status & TP_STATUS_CSUM_VALID) != 0;
    }
    return absl::MakeConstSpan(buffer_.data(), static_cast<size_t>(n));
  }
}

int PacketSocket::BoundIndex() const {
  sockaddr_ll sll{};
  socklen_t len = sizeof(sll);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sll), &len) != 0) {
    return -1;
  }
  return sll.sll_ifindex;
}

uint64_t PacketSocket::TakeDrops() {
  tpacket_stats st{};
  socklen_t len = sizeof(st);
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
  return st.tp_drops;
}

absl::Status PacketSocket::Rebind(int ifindex) {
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_IP);
  sll.sll_ifindex = ifindex;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    return Errno("bind(AF_PACKET)");
  }
  ifindex_ = ifindex;
  return absl::OkStatus();
}

absl::Status PacketSocket::Send(absl::Span<const uint8_t> frame) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex_;
  to.sll_halen = 6;
  std::copy(frame.begin(), frame.begin() + 6, to.sll_addr);
  ssize_t n = sendto(fd_, frame.data(), frame.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to));
  if (n < 0) return Errno("sendto(AF_PACKET)");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RawIpSender>> RawIpSender::Open() {
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return Errno("socket(AF_INET, SOCK_RAW)");
  // IPPROTO_RAW never receives; make that explicit so nothing queues.
  int zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero));
  return std::unique_ptr<RawIpSender>(new RawIpSender(fd));
}

RawIpSender::~RawIpSender() { close(fd_); }

absl::Status RawIpSender::Send(const wire::UdpDatagram& d) {
  return Send(wire::BuildIpv4Udp(d), d.dst_ip);
}

absl::Status RawIpSender::Send(absl::Span<const uint8_t> packet,
                               wire::Ipv4 dst) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst);
  ssize_t n = sendto(fd_, packet.data(), packet.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to));
  if (n < 0) return Errno("sendto(raw ip)");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PortSink>> PortSink::Open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket(udp)");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = Errno(absl::StrCat("bind udp port ", port));
    close(fd);
    return s;
  }
  return std::unique_ptr<PortSink>(new PortSink(fd));
}

PortSink::~PortSink() { close(fd_); }

void PortSink::Drain() {
  char buf[2048];
  while (recv(fd_, buf, sizeof(buf), 0) >= 0) {
  }
}

}  // namespace proxydhcp
