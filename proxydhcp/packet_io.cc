#include "proxydhcp/packet_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace proxydhcp {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

// sendmmsg over `msgs`, resuming after a packet that fails (sendmmsg stops
// at the first error and reports it only if nothing was sent).
// One sendmmsg batch; `address(packet)` gives each packet's destination
// (a sockaddr_ll for the packet socket, a sockaddr_in for the raw IP one).
// errors[i] is 0 or the errno of packet i: a failing packet is skipped and
// the rest still go.
template <typename Addr, typename AddressOf>
void SendBatch(int fd, absl::Span<const OutPacket> packets, AddressOf address,
               std::vector<int>* errors) {
  std::vector<Addr> to(packets.size());
  std::vector<iovec> iov(packets.size());
  std::vector<mmsghdr> msgs(packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    to[i] = address(packets[i]);
    iov[i] = {const_cast<uint8_t*>(packets[i].bytes.data()),
              packets[i].bytes.size()};
    msgs[i].msg_hdr.msg_name = &to[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(Addr);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  errors->assign(msgs.size(), 0);
  size_t done = 0;
  while (done < msgs.size()) {
    int n = sendmmsg(fd, msgs.data() + done, msgs.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      (*errors)[done++] = errno;
      continue;
    }
    done += static_cast<size_t>(n);
  }
}

// The link-layer destination of a frame: its own destination MAC.
sockaddr_ll LinkAddress(int ifindex, absl::Span<const uint8_t> frame) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::copy(frame.begin(), frame.begin() + std::min<size_t>(6, frame.size()),
            to.sll_addr);
  return to;
}

sockaddr_in IpAddress(wire::Ipv4 dst) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst);
  return to;
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
    int ifindex, const std::vector<sock_filter>& filter, RingSize ring) {
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
  // The ring before bind: nothing is queued where it would never be read.
  std::unique_ptr<PacketSocket> sock(new PacketSocket(fd, ifindex));
  if (ring.frames == 0) {
    sock->buffer_.resize(65536);
  } else if (absl::Status s = sock->MapRing(ring); !s.ok()) {
    return s;
  }
  if (absl::Status s = sock->Rebind(ifindex); !s.ok()) return s;
  return sock;
}

absl::Status PacketSocket::MapRing(RingSize ring) {
  int version = TPACKET_V2;
  if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) !=
      0) {
    return Errno("PACKET_VERSION");
  }
  // Blocks of 1 MiB (a multiple of the page and of the slot), whole slots.
  const uint32_t block = 1 << 20;
  tpacket_req req{};
  req.tp_frame_size = ring.frame_bytes;
  req.tp_block_size = block;
  req.tp_block_nr = (ring.frames * ring.frame_bytes + block - 1) / block;
  req.tp_frame_nr = req.tp_block_nr * (block / ring.frame_bytes);
  if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
    return Errno("PACKET_RX_RING");
  }
  ring_bytes_ = static_cast<size_t>(req.tp_block_size) * req.tp_block_nr;
  void* p =
      mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return Errno("mmap(PACKET_RX_RING)");
  ring_ = static_cast<uint8_t*>(p);
  ring_size_ = RingSize{req.tp_frame_nr, ring.frame_bytes};
  return absl::OkStatus();
}

PacketSocket::~PacketSocket() {
  if (ring_ != nullptr) munmap(ring_, ring_bytes_);
  close(fd_);
}

std::optional<absl::Span<const uint8_t>> PacketSocket::NextRingFrame(
    ReceiveMeta* meta) {
  // Give the slot handed out last back to the kernel (the frame stays valid
  // until the next call, as with the socket buffer).
  if (ring_held_ != nullptr) {
    auto* h = reinterpret_cast<tpacket2_hdr*>(ring_held_);
    std::atomic_ref<uint32_t>(h->tp_status)
        .store(TP_STATUS_KERNEL, std::memory_order_release);
    ring_held_ = nullptr;
  }
  for (;;) {
    uint8_t* slot =
        ring_ + static_cast<size_t>(ring_next_) * ring_size_.frame_bytes;
    auto* h = reinterpret_cast<tpacket2_hdr*>(slot);
    const uint32_t status =
        std::atomic_ref<uint32_t>(h->tp_status).load(std::memory_order_acquire);
    if ((status & TP_STATUS_USER) == 0) return std::nullopt;
    ring_next_ = (ring_next_ + 1) % ring_size_.frames;
    const auto* from =
        reinterpret_cast<const sockaddr_ll*>(slot + TPACKET_ALIGN(sizeof(*h)));
    if (from->sll_pkttype == PACKET_OUTGOING || h->tp_snaplen < h->tp_len ||
        h->tp_mac + h->tp_snaplen > ring_size_.frame_bytes) {
      // Our own replies; or a frame longer than a slot, which the kernel
      // cut: never decided on, counted.
      if (from->sll_pkttype != PACKET_OUTGOING) ++truncated_;
      std::atomic_ref<uint32_t>(h->tp_status)
          .store(TP_STATUS_KERNEL, std::memory_order_release);
      continue;
    }
    *meta = ReceiveMeta{};
    meta->ifindex = from->sll_ifindex != 0 ? from->sll_ifindex : ifindex_;
    meta->other_host = from->sll_pkttype == PACKET_OTHERHOST;
    meta->vlan_tagged = (status & TP_STATUS_VLAN_VALID) != 0;
    meta->csum_not_ready = (status & TP_STATUS_CSUMNOTREADY) != 0;
    meta->csum_valid = (status & TP_STATUS_CSUM_VALID) != 0;
    ring_held_ = slot;
    return absl::MakeConstSpan(slot + h->tp_mac, h->tp_snaplen);
  }
}

int PacketSocket::TakeError() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

uint64_t PacketSocket::TakeTruncated() {
  uint64_t n = truncated_;
  truncated_ = 0;
  return n;
}

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
  if (ring_ != nullptr) return NextRingFrame(meta);
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
  TakeError();  // an ENETDOWN left from the interface bound before
  ifindex_ = ifindex;
  return absl::OkStatus();
}

absl::Status PacketSocket::Send(absl::Span<const uint8_t> frame) {
  sockaddr_ll to = LinkAddress(ifindex_, frame);
  ssize_t n = sendto(fd_, frame.data(), frame.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to));
  if (n < 0) return Errno("sendto(AF_PACKET)");
  return absl::OkStatus();
}

void PacketSocket::SendMany(absl::Span<const OutPacket> packets,
                            std::vector<int>* errors) {
  SendBatch<sockaddr_ll>(
      fd_, packets,
      [this](const OutPacket& p) { return LinkAddress(ifindex_, p.bytes); },
      errors);
}

void RawIpSender::SendMany(absl::Span<const OutPacket> packets,
                           std::vector<int>* errors) {
  SendBatch<sockaddr_in>(
      fd_, packets, [](const OutPacket& p) { return IpAddress(p.dst); },
      errors);
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
  sockaddr_in to = IpAddress(dst);
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
