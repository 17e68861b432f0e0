// The UDP ceiling of a link (scripts/bench-storm): how many bytes of
// TFTP-sized datagrams one sender can push through it with sendmmsg, as
// received with recvmmsg on the other side. What a TFTP server's aggregate
// throughput is measured against. Not a test: it prints numbers.
//
//   udp_blast recv BIND_IP PORT SECONDS     prints what arrived
//   udp_blast send DST_IP PORT SECONDS SIZE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "wire/addr.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 64;

sockaddr_in Addr(wire::Ipv4 ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ip);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

int Receive(int fd, int seconds) {
  int buf = 32 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
  std::vector<std::vector<uint8_t>> bufs(kBatch, std::vector<uint8_t>(2048));
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  uint64_t bytes = 0, datagrams = 0;
  Clock::time_point first{}, last{};
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    if (datagrams == 0) first = Clock::now();
    last = Clock::now();
    datagrams += n;
    for (int i = 0; i < n; ++i) bytes += msgs[i].msg_len;
  }
  const double s = std::chrono::duration<double>(last - first).count();
  std::printf("datagrams=%lu bytes=%lu seconds=%.2f MB_per_s=%.0f\n",
              static_cast<unsigned long>(datagrams),
              static_cast<unsigned long>(bytes), s,
              s > 0 ? bytes / s / 1e6 : 0.0);
  return 0;
}

int Send(int fd, int seconds, int size) {
  std::vector<uint8_t> payload(size, 0x5a);
  std::vector<iovec> iov(kBatch, iovec{payload.data(), payload.size()});
  std::vector<mmsghdr> msgs(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t sent = 0;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    int n = sendmmsg(fd, msgs.data(), kBatch, 0);
    if (n > 0) sent += n;
  }
  std::printf("sent=%lu\n", static_cast<unsigned long>(sent));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, seconds = 0, size = 1472;
  const std::string mode = argc > 1 ? argv[1] : "";
  auto ip = argc > 2 ? wire::ParseIpv4(argv[2]) : std::nullopt;
  if ((mode != "recv" && mode != "send") || !ip || argc < 5 ||
      !absl::SimpleAtoi(argv[3], &port) ||
      !absl::SimpleAtoi(argv[4], &seconds) ||
      (mode == "send" && (argc < 6 || !absl::SimpleAtoi(argv[5], &size) ||
                          size < 1 || size > 65000))) {
    std::fprintf(stderr,
                 "usage: %s recv BIND_IP PORT SECONDS | "
                 "send DST_IP PORT SECONDS SIZE\n",
                 argv[0]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  sockaddr_in a = Addr(*ip, port);
  if (mode == "recv") {
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 1;
    return Receive(fd, seconds);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 1;
  return Send(fd, seconds, size);
}
