#include "tftp/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tftp {
namespace {

sockaddr_in ToSockaddr(const Endpoint& e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(e.ip);
  sa.sin_port = htons(e.port);
  return sa;
}

constexpr char kErrnoUrl[] = "pxeproxy/errno";

absl::Status Errno(const std::string& what) { return SocketError(what, errno); }

// DATA goes out without DF: some ROMs drop fragments and others choke on
// ICMP "fragmentation needed"; a blksize clamped to the MTU rarely fragments
// anyway (docs/protocol.md "TFTP sockets and addresses").
absl::StatusOr<int> OpenUdp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int dont = IP_PMTUDISC_DONT;
  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont));
  return fd;
}

absl::StatusOr<int> Bind(int fd, const Endpoint& e) {
  sockaddr_in sa = ToSockaddr(e);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    absl::Status s = Errno(absl::StrCat("bind ", FormatEndpoint(e)));
    close(fd);
    return s;
  }
  return fd;
}

// Space for one in_pktinfo control message.
union PktinfoCmsg {
  char buf[CMSG_SPACE(sizeof(in_pktinfo))];
  cmsghdr align;
};

// IP_PKTINFO naming the source address a reply leaves from: the address
// the request came to, so a host with several addresses answers from the
// one the client knows.
void WritePktinfo(cmsghdr* c, wire::Ipv4 local) {
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo pi{};
  pi.ipi_spec_dst.s_addr = htonl(local);
  memcpy(CMSG_DATA(c), &pi, sizeof(pi));
}

void SetSource(msghdr* msg, PktinfoCmsg* cbuf, wire::Ipv4 local) {
  if (local == 0) return;
  memset(cbuf, 0, sizeof(*cbuf));
  msg->msg_control = cbuf->buf;
  msg->msg_controllen = sizeof(cbuf->buf);
  WritePktinfo(CMSG_FIRSTHDR(msg), local);
}

}  // namespace

absl::Status SocketError(const std::string& what, int err) {
  absl::Status s = absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
  s.SetPayload(kErrnoUrl, absl::Cord(std::to_string(err)));
  return s;
}

int ErrnoOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kErrnoUrl);
  int err = 0;
  if (!p || !absl::SimpleAtoi(std::string(*p), &err)) return 0;
  return err;
}

absl::StatusOr<int> OpenServerSocket(uint16_t port) {
  absl::StatusOr<int> fd = OpenUdp();
  if (!fd.ok()) return fd;
  int one = 1;
  setsockopt(*fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
  setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // A boot storm sends thousands of RRQs at once (10,000 OVMF machines:
  // 20,000, with their tsize probes; 4 MiB held about 9,000 of them on a
  // veth, BENCHMARKS.md); keep them queued. FORCE passes net.core.rmem_max
  // while we still have CAP_NET_ADMIN (root, before privileges are
  // dropped); otherwise the request is capped at rmem_max (README, "At
  // scale"). What overflows anyway is counted: SO_RXQ_OVFL.
  setsockopt(*fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  int rcvbuf = 32 << 20;
  if (setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf))) {
    setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  return Bind(*fd, {0, port});
}

absl::StatusOr<int> OpenTransferSocket(wire::Ipv4 local) {
  absl::StatusOr<int> fd = OpenUdp();
  if (!fd.ok()) return fd;
  // Room for a whole window of large blocks.
  int sndbuf = 1 << 20;
  setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  return Bind(*fd, {local, 0});
}

// What a received datagram may carry: IP_PKTINFO, and on the server socket
// SO_RXQ_OVFL (the socket's drop count).
union ReceiveCmsg {
  char buf[CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
  cmsghdr align;
};

absl::StatusOr<std::optional<Datagram>> Receive(int fd,
                                                absl::Span<uint8_t> buf) {
  sockaddr_in sa{};
  iovec iov{buf.data(), buf.size()};
  ReceiveCmsg cbuf;
  msghdr msg{};
  msg.msg_name = &sa;
  msg.msg_namelen = sizeof(sa);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf.buf;
  msg.msg_controllen = sizeof(cbuf.buf);
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
  if (n < 0) return Errno("recvmsg");
  Datagram d;
  d.peer = {ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
  d.size = static_cast<size_t>(n);
  d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      // ipi_spec_dst, not ipi_addr: for an RRQ sent to a broadcast address
      // it is our address on that interface, the one we can reply from.
      d.local = ntohl(pi.ipi_spec_dst.s_addr);
      d.ifindex = pi.ipi_ifindex;
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t drops;
      memcpy(&drops, CMSG_DATA(c), sizeof(drops));
      d.queue_drops = drops;
    }
  }
  return d;
}

absl::Status Send(int fd, const Endpoint& to, wire::Ipv4 local,
                  absl::Span<const iovec> iov) {
  sockaddr_in sa = ToSockaddr(to);
  PktinfoCmsg cbuf;
  msghdr msg{};
  msg.msg_name = &sa;
  msg.msg_namelen = sizeof(sa);
  msg.msg_iov = const_cast<iovec*>(iov.data());
  msg.msg_iovlen = iov.size();
  SetSource(&msg, &cbuf, local);
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno("sendmsg");
  return absl::OkStatus();
}

int SendBatch(int fd, const Endpoint& to, wire::Ipv4 local, const iovec* iov,
              int count) {
  sockaddr_in sa = ToSockaddr(to);
  PktinfoCmsg cbuf;
  constexpr int kMax = 64;
  count = std::min(count, kMax);  // callers batch at most this many
  std::array<mmsghdr, kMax> msgs{};
  for (int i = 0; i < count; ++i) {
    msghdr& m = msgs[i].msg_hdr;
    m.msg_name = &sa;
    m.msg_namelen = sizeof(sa);
    m.msg_iov = const_cast<iovec*>(iov + ptrdiff_t{2} * i);
    m.msg_iovlen = 2;
    SetSource(&m, &cbuf, local);  // the same control bytes serve every message
  }
  int sent = 0, next = 0;
  while (next < count) {
    int n = sendmmsg(fd, msgs.data() + next, count - next, 0);
    if (n > 0) {
      sent += n;
      next += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      break;  // the socket buffer is full: the rest is lost like on a wire
    } else {
      ++next;  // this one datagram failed (a firewall's EPERM...): skip it
    }
  }
  return sent;
}

absl::Status SendSegmented(int fd, const Endpoint& to, wire::Ipv4 local,
                           const iovec* iov, int iovcnt, uint16_t segment) {
  sockaddr_in sa = ToSockaddr(to);
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(in_pktinfo))];
    cmsghdr align;
  } cbuf;
  memset(&cbuf, 0, sizeof(cbuf));
  msghdr msg{};
  msg.msg_name = &sa;
  msg.msg_namelen = sizeof(sa);
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = iovcnt;
  msg.msg_control = cbuf.buf;
  msg.msg_controllen = CMSG_SPACE(sizeof(uint16_t)) +
                       (local ? CMSG_SPACE(sizeof(in_pktinfo)) : 0);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  memcpy(CMSG_DATA(c), &segment, sizeof(segment));
  if (local) WritePktinfo(CMSG_NXTHDR(&msg, c), local);
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno("sendmsg UDP_SEGMENT");
  return absl::OkStatus();
}

int InterfaceMtu(int ifindex) {
  char name[IF_NAMESIZE];
  if (ifindex <= 0 || if_indextoname(ifindex, name) == nullptr) return 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  ifreq ifr{};
  static_assert(IF_NAMESIZE <= sizeof(ifr.ifr_name));
  memcpy(ifr.ifr_name, name, IF_NAMESIZE);
  int mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 0;
  close(fd);
  return mtu;
}

}  // namespace tftp
