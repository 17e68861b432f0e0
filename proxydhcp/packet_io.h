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

class PacketSocket {
 public:
  static absl::StatusOr<std::unique_ptr<PacketSocket>> Open(
      int ifindex, const std::vector<sock_filter>& filter);
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
  int fd_;
  int ifindex_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(65536);
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
