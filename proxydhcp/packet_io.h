// The raw-socket shell: an AF_PACKET socket per interface with a BPF filter
// compiled by libpcap (no hand-written opcodes), and a raw IPv4 socket for
// replies the kernel must route (relays, port 4011). Neither binds port 67, so
// a DHCP server on the same host keeps its socket.
#ifndef PXEPROXY_PROXYDHCP_PACKET_IO_H_
#define PXEPROXY_PROXYDHCP_PACKET_IO_H_

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proxydhcp/decide.h"
#include "wire/udp_frame.h"

namespace proxydhcp {

constexpr char kProxyBpfFilter[] = "udp dst port 67 or udp dst port 4011";

// Compiles a pcap filter expression for Ethernet frames.
absl::StatusOr<std::vector<sock_filter>> CompileBpf(const std::string& expr);

// A receive ring (PACKET_RX_RING, TPACKET_V2): the kernel writes frames
// straight into memory shared with us, so a burst costs no system call per
// frame, and its depth is ours to choose: a socket buffer is capped at
// net.core.rmem_max (208 KiB by default) once root is gone, the ring is not.
// Frames are fixed slots, each visible as soon as it is written: nothing
// waits for a block to fill (TPACKET_V3 would, adding latency at low rates).
struct RingSize {
  uint32_t frames = 0;  // 0: no ring, a socket buffer as before
  uint32_t frame_bytes = 2048;
};
// 16384 slots of 2 KiB (32 MiB): a rack of 10,000 machines powering on at
// once queues its DISCOVERs without a drop (BENCHMARKS.md, boot storm).
constexpr RingSize kDefaultRing{16384, 2048};

// One outgoing packet of a batch: the bytes, and for RawIpSender the
// destination (PacketSocket reads the MAC from the frame).
struct OutPacket {
  absl::Span<const uint8_t> bytes;
  wire::Ipv4 dst = 0;
};

class PacketSocket {
 public:
  static absl::StatusOr<std::unique_ptr<PacketSocket>> Open(
      int ifindex, const std::vector<sock_filter>& filter,
      RingSize ring = RingSize{});
  ~PacketSocket();
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  int fd() const { return fd_; }
  int ifindex() const { return ifindex_; }

  // One received frame, or nullopt when nothing is queued. Frames we sent
  // ourselves (PACKET_OUTGOING) are skipped. `vlan_tagged` (optional) tells
  // whether the frame carried an 802.1Q tag the kernel stripped: a socket on
  // eth0 also sees eth0.N's traffic, which belongs to another segment.
  absl::StatusOr<std::optional<std::vector<uint8_t>>> Receive(
      bool* vlan_tagged = nullptr);
  // The same without a copy: the frame stays valid until the next call.
  // `meta` receives the interface, the VLAN flag, PACKET_OTHERHOST and the
  // checksum status from PACKET_AUXDATA (Decide reads them).
  absl::StatusOr<std::optional<absl::Span<const uint8_t>>> ReceiveFrame(
      ReceiveMeta* meta);
  absl::Status Send(absl::Span<const uint8_t> frame);
  // Sends a batch with sendmmsg; `errors[i]` is 0 or the errno of packet i
  // (one failing packet does not stop the rest).
  void SendMany(absl::Span<const OutPacket> packets, std::vector<int>* errors);
  // The socket's pending error (SO_ERROR, read and so cleared), 0 if none.
  // With a ring nothing else reads it: the kernel sets ENETDOWN when the
  // interface goes down, poll then reports POLLERR at once, and the next
  // send would fail with it.
  int TakeError();
  // Frames the ring cut short (longer than a slot); counted, never decided.
  uint64_t TakeTruncated();
  // Moves the socket to another interface (one deleted and created again
  // has a new index). The socket keeps its filter and its receive buffer,
  // which could not be made as deep again once root is dropped.
  absl::Status Rebind(int ifindex);
  // The interface the kernel has the socket bound to now (getsockname):
  // 0 or -1 once that interface was unregistered, even if a new one later
  // takes the same index.
  int BoundIndex() const;
  // Frames the kernel dropped because the receive queue was full, since the
  // last call (PACKET_STATISTICS resets on read).
  uint64_t TakeDrops();

 private:
  PacketSocket(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
  absl::Status MapRing(RingSize ring);
  // The ring's next frame, releasing the one handed out before.
  std::optional<absl::Span<const uint8_t>> NextRingFrame(ReceiveMeta* meta);
  int fd_;
  int ifindex_;
  std::vector<uint8_t> buffer_;  // without a ring
  uint8_t* ring_ = nullptr;
  size_t ring_bytes_ = 0;
  RingSize ring_size_;
  uint32_t ring_next_ = 0;        // the slot to look at next
  uint8_t* ring_held_ = nullptr;  // the slot handed out, released next call
  uint64_t truncated_ = 0;
};

// AF_INET/SOCK_RAW/IPPROTO_RAW: we write the IPv4 and UDP headers, the kernel
// routes and resolves the link address.
class RawIpSender {
 public:
  static absl::StatusOr<std::unique_ptr<RawIpSender>> Open();
  ~RawIpSender();
  absl::Status Send(const wire::UdpDatagram& d);
  // An IPv4 packet already built (Decide's Reply::bytes), routed to `dst`.
  absl::Status Send(absl::Span<const uint8_t> packet, wire::Ipv4 dst);
  // As PacketSocket::SendMany, each packet routed to its `dst`.
  void SendMany(absl::Span<const OutPacket> packets, std::vector<int>* errors);

 private:
  explicit RawIpSender(int fd) : fd_(fd) {}
  int fd_;
};

// Binds 0.0.0.0:port and discards what arrives, only so that the kernel does
// not answer unicast requests with ICMP port-unreachable (which a PXE client
// may take as a failure) while the AF_PACKET socket does the real work.
class PortSink {
 public:
  static absl::StatusOr<std::unique_ptr<PortSink>> Open(uint16_t port);
  ~PortSink();
  int fd() const { return fd_; }
  void Drain();

 private:
  explicit PortSink(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace proxydhcp

#endif  // PXEPROXY_PROXYDHCP_PACKET_IO_H_
