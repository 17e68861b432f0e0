// A TFTP request flood for the flood test (floods): RRQs from many source
// addresses and ports, sent through a raw socket with forged IPv4 sources
// (the replies go to addresses that never answer, as in a spoofed flood:
// every transfer the server starts waits for an ACK that never comes).
//
//   rrq_flood --dst=IP --src=IP [options]
//     --dport=N     server port (69)
//     --src=IP      first source address; the others follow it
//     --hosts=H     source addresses (1)
//     --ports=P     source ports per address, from --sport on (1000)
//     --sport=N     first source port (20000)
//     --count=N     requests to send (hosts * ports)
//     --pps=R       requests per second (0: as fast as the socket takes)
//     --file=NAME   the file asked for (a large one)
//     --mix         one request in 16 of each kind below, else all kind 0
// Request k goes from address k % H, port sport + (k / H) % P, so every
// address ramps up at once. Kinds (by (k / H) % 16, with --mix):
//   0-10  octet, timeout 255, blksize 1468, windowsize 16 (holds a slot)
//   11    netascii, timeout 255 (converted per block by the server)
//   12    octet, no options (lock-step, the server's own timeout)
//   13    a name that does not exist (ERROR 1)
//   14    an RRQ without its final NUL (malformed: ERROR 4)
//   15    a WRQ (ERROR 2)
// Prints "sent=N seconds=S pps=R" and the count per kind on one line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Put16(std::vector<uint8_t>& v, size_t at, unsigned x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x & 0xff);
}

std::vector<uint8_t> Payload(int kind, const std::string& file) {
  std::string s;
  auto str = [&s](const std::string& x) {
    s += x;
    s.push_back('\0');
  };
  if (kind <= 10) {
    s = std::string("\0\1", 2);
    str(file);
    str("octet");
    str("timeout");
    str("255");
    str("blksize");
    str("1468");
    str("windowsize");
    str("16");
  } else if (kind == 11) {
    s = std::string("\0\1", 2);
    str(file);
    str("netascii");
    str("timeout");
    str("255");
  } else if (kind == 12) {
    s = std::string("\0\1", 2);
    str(file);
    str("octet");
  } else if (kind == 13) {
    s = std::string("\0\1", 2);
    str("no-such-file-" + file);
    str("octet");
  } else if (kind == 14) {
    s = std::string("\0\1", 2);
    str(file);
    s += "octet";  // no terminating NUL
  } else {
    s = std::string("\0\2", 2);
    str("upload-" + file);
    str("octet");
  }
  return {s.begin(), s.end()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dst, src, file = "big";
  long dport = 69, hosts = 1, ports = 1000, sport = 20000, count = -1;
  double pps = 0;
  bool mix = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&a](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = val("--dst=")) {
      dst = v;
    } else if (const char* v = val("--src=")) {
      src = v;
    } else if (const char* v = val("--dport=")) {
      dport = std::atol(v);
    } else if (const char* v = val("--hosts=")) {
      hosts = std::atol(v);
    } else if (const char* v = val("--ports=")) {
      ports = std::atol(v);
    } else if (const char* v = val("--sport=")) {
      sport = std::atol(v);
    } else if (const char* v = val("--count=")) {
      count = std::atol(v);
    } else if (const char* v = val("--pps=")) {
      pps = std::atof(v);
    } else if (const char* v = val("--file=")) {
      file = v;
    } else if (a == "--mix") {
      mix = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  in_addr dst_ip{}, src_ip{};
  if (inet_pton(AF_INET, dst.c_str(), &dst_ip) != 1 ||
      inet_pton(AF_INET, src.c_str(), &src_ip) != 1 || hosts < 1 || ports < 1 ||
      sport < 1 || sport + ports > 65536) {
    std::fprintf(stderr,
                 "usage: rrq_flood --dst=IP --src=IP [--hosts=H] [--ports=P] "
                 "[--sport=N] [--count=N] [--pps=R] [--file=NAME] [--mix]\n");
    return 2;
  }
  if (count < 0) count = hosts * ports;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    perror("socket(SOCK_RAW)");
    return 1;
  }
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  std::vector<std::vector<uint8_t>> payloads;
  for (int k = 0; k < 16; ++k) payloads.push_back(Payload(k, file));
  uint32_t base = ntohl(src_ip.s_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = dst_ip;
  long per_kind[16] = {};
  std::vector<uint8_t> pkt(1500);
  double start = Now();
  long sent = 0;
  for (long k = 0; k < count; ++k) {
    long round = k / hosts;
    int kind = mix ? static_cast<int>(round % 16) : 0;
    const std::vector<uint8_t>& p = payloads[static_cast<size_t>(kind)];
    size_t len = 28 + p.size();
    pkt.assign(len, 0);
    pkt[0] = 0x45;
    Put16(pkt, 2, static_cast<unsigned>(len));  // the kernel fills it too
    Put16(pkt, 4, static_cast<unsigned>(k & 0xffff));
    pkt[8] = 64;
    pkt[9] = IPPROTO_UDP;
    uint32_t s = htonl(base + static_cast<uint32_t>(k % hosts));
    std::memcpy(&pkt[12], &s, 4);
    std::memcpy(&pkt[16], &dst_ip, 4);
    Put16(pkt, 20, static_cast<unsigned>(sport + round % ports));
    Put16(pkt, 22, static_cast<unsigned>(dport));
    Put16(pkt, 24, static_cast<unsigned>(8 + p.size()));
    // UDP checksum 0: none (IPv4); the kernel fills the IP checksum.
    std::memcpy(&pkt[28], p.data(), p.size());
    if (pps > 0) {
      double due = start + static_cast<double>(k) / pps;
      double wait = due - Now();
      if (wait > 0.0005) usleep(static_cast<useconds_t>(wait * 1e6));
    }
    while (sendto(fd, pkt.data(), len, 0, reinterpret_cast<sockaddr*>(&to),
                  sizeof to) < 0) {
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
        perror("sendto");
        return 1;
      }
      usleep(200);
    }
    ++sent;
    ++per_kind[kind];
  }
  double secs = Now() - start;
  std::printf("sent=%ld seconds=%.2f pps=%.0f kinds=", sent, secs,
              secs > 0 ? static_cast<double>(sent) / secs : 0.0);
  for (int k = 0; k < 16; ++k) std::printf("%s%ld", k ? "," : "", per_kind[k]);
  std::printf("\n");
  return 0;
}
