// Thin wrappers over the UDP socket calls the TFTP server needs: IP_PKTINFO
// on receive (which local address and interface an RRQ came to) and on send
// (reply from that same address), no DF bit, batched sends.
#ifndef PXEPROXY_TFTP_UDP_H_
#define PXEPROXY_TFTP_UDP_H_

#include <netinet/in.h>
#include <sys/uio.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tftp/endpoint.h"
#include "wire/addr.h"

namespace tftp {

struct Datagram {
  Endpoint peer;
  wire::Ipv4 local = 0;  // the address the client sent to (IP_PKTINFO)
  int ifindex = 0;
  size_t size = 0;
  bool truncated = false;
  // The socket's count of datagrams the kernel dropped (queue full) so far,
  // when it reports one (SO_RXQ_OVFL, on the server socket).
  std::optional<uint32_t> queue_drops;
};

// Bound to 0.0.0.0:port, IP_PKTINFO on, non-blocking.
absl::StatusOr<int> OpenServerSocket(uint16_t port);
// Bound to local:0: a fresh ephemeral port, the transfer's TID (RFC 1350).
absl::StatusOr<int> OpenTransferSocket(wire::Ipv4 local);

// A failed socket call: absl::InternalError("<call>: <strerror>"), with the
// errno attached (ErrnoOf reads it back).
absl::Status SocketError(const std::string& what, int err);
// The errno of a SocketError; 0 for any other status.
int ErrnoOf(const absl::Status& s);

// One datagram; nullopt when nothing is left to read (EAGAIN). EINTR is
// retried; any other failure is an error (the caller logs and counts it).
absl::StatusOr<std::optional<Datagram>> Receive(int fd,
                                                absl::Span<uint8_t> buf);

// Sends one datagram gathered from `iov`; `local` != 0 sets the source
// address through IP_PKTINFO (for sockets bound to 0.0.0.0). An error is
// for the caller to count; UDP loss is handled by the timers.
absl::Status Send(int fd, const Endpoint& to, wire::Ipv4 local,
                  absl::Span<const iovec> iov);
// Sends `count` datagrams, message i gathered from iov[2i], iov[2i+1], with
// as few sendmmsg calls as the kernel allows. Returns how many went out.
int SendBatch(int fd, const Endpoint& to, wire::Ipv4 local, const iovec* iov,
              int count);

// UDP GSO (UDP_SEGMENT, Linux 4.18): one sendmsg whose payload, gathered
// from `iov`, the kernel cuts into datagrams of `segment` bytes (the last
// may be shorter). On error (ErrnoOf says which) nothing was sent.
absl::Status SendSegmented(int fd, const Endpoint& to, wire::Ipv4 local,
                           const iovec* iov, int iovcnt, uint16_t segment);

// The interface's MTU (SIOCGIFMTU), or 0 when unknown.
int InterfaceMtu(int ifindex);

}  // namespace tftp

#endif  // PXEPROXY_TFTP_UDP_H_
