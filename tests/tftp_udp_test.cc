// The TFTP socket layer's Status API: an empty queue is not an error, a real
// receive or send failure is one and keeps its errno.
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tftp/udp.h"

namespace tftp {
namespace {

constexpr wire::Ipv4 kLoopback = 0x7f000001;

uint16_t LocalPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

TEST(Udp, EmptyQueueIsNoDatagramAndNoError) {
  absl::StatusOr<int> fd = OpenTransferSocket(kLoopback);
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::vector<uint8_t> buf(1500);
  absl::StatusOr<std::optional<Datagram>> got =
      Receive(*fd, absl::MakeSpan(buf));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
  close(*fd);
}

TEST(Udp, SendThenReceive) {
  absl::StatusOr<int> server = OpenServerSocket(0);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<int> client = OpenTransferSocket(kLoopback);
  ASSERT_TRUE(client.ok()) << client.status();
  const uint8_t payload[] = {0, 1, 'x', 0};
  iovec iov{const_cast<uint8_t*>(payload), sizeof(payload)};
  absl::Status sent =
      Send(*client, {kLoopback, LocalPort(*server)}, 0, {&iov, 1});
  ASSERT_TRUE(sent.ok()) << sent;
  ASSERT_TRUE(WaitReadable(*server, 2000));
  std::vector<uint8_t> buf(1500);
  absl::StatusOr<std::optional<Datagram>> got =
      Receive(*server, absl::MakeSpan(buf));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const Datagram& d = **got;
  EXPECT_EQ(d.size, sizeof(payload));
  EXPECT_FALSE(d.truncated);
  EXPECT_EQ(d.peer.ip, kLoopback);
  EXPECT_EQ(d.peer.port, LocalPort(*client));
  EXPECT_EQ(d.local, kLoopback);
  EXPECT_GT(d.ifindex, 0);
  close(*client);
  close(*server);
}

// A connected UDP socket learns of the ICMP port unreachable its datagram
// met: the next recvmsg fails with ECONNREFUSED, a real receive error.
TEST(Udp, ReceiveReportsARealError) {
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(kLoopback);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  sa.sin_port = htons(LocalPort(probe));
  close(probe);  // nobody listens on that port now
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(send(fd, "x", 1, 0), 1);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  std::vector<uint8_t> buf(64);
  absl::StatusOr<std::optional<Datagram>> got =
      Receive(fd, absl::MakeSpan(buf));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoOf(got.status()), ECONNREFUSED) << got.status();
  EXPECT_EQ(got.status().message().substr(0, 9), "recvmsg: ");
  // The error is reported once; then the queue is merely empty.
  absl::StatusOr<std::optional<Datagram>> next =
      Receive(fd, absl::MakeSpan(buf));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->has_value());
  close(fd);
}

TEST(Udp, ErrorsKeepTheirErrno) {
  std::vector<uint8_t> buf(64);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  absl::StatusOr<std::optional<Datagram>> got =
      Receive(pipe_fds[0], absl::MakeSpan(buf));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoOf(got.status()), ENOTSOCK);
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  uint8_t byte = 0;
  iovec iov{&byte, 1};
  absl::Status sent = Send(-1, {kLoopback, 9}, 0, {&iov, 1});
  EXPECT_EQ(ErrnoOf(sent), EBADF) << sent;
  EXPECT_EQ(sent.code(), absl::StatusCode::kInternal);
  absl::Status segmented = SendSegmented(-1, {kLoopback, 9}, 0, &iov, 1, 512);
  EXPECT_EQ(ErrnoOf(segmented), EBADF) << segmented;

  EXPECT_EQ(ErrnoOf(absl::OkStatus()), 0);
  EXPECT_EQ(ErrnoOf(absl::InternalError("no errno")), 0);
  absl::Status e = SocketError("bind 1.2.3.4:69", EADDRINUSE);
  EXPECT_EQ(ErrnoOf(e), EADDRINUSE);
  EXPECT_EQ(e.message(), "bind 1.2.3.4:69: Address already in use");
}

}  // namespace
}  // namespace tftp
