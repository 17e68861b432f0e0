// The TFTP shell over loopback, shared by the server tests: a real
// tftp::Server in a thread (ServerTest), a test socket as the client.
// Needs no root; every wait is bounded.
#ifndef PXEPROXY_TESTS_TFTP_SERVER_FIXTURE_H_
#define PXEPROXY_TESTS_TFTP_SERVER_FIXTURE_H_

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "glog/logging.h"
#include "gtest/gtest.h"
#include "tftp/server.h"
#include "wire/tftp_packet.h"

namespace tftp {
namespace server_test {

namespace fs = std::filesystem;

struct Reply {
  std::vector<uint8_t> bytes;
  uint16_t port = 0;
  uint16_t opcode() const { return bytes.size() < 2 ? 0 : bytes[1]; }
  uint16_t u16(size_t at) const {
    return bytes.size() < at + 2 ? 0 : bytes[at] << 8 | bytes[at + 1];
  }
};

class Client {
 public:
  // Any 127/8 address is local: 127.0.0.2 is another host to the server.
  explicit Client(uint32_t address = INADDR_LOOPBACK) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(address);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  ~Client() { close(fd_); }
  void Send(uint16_t port, const std::vector<uint8_t>& b) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&sa),
           sizeof(sa));
  }
  std::optional<Reply> Receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    Reply r;
    r.bytes.resize(70000);
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    ssize_t n = recvfrom(fd_, r.bytes.data(), r.bytes.size(), 0,
                         reinterpret_cast<sockaddr*>(&sa), &len);
    if (n < 0) return std::nullopt;
    r.bytes.resize(n);
    r.port = ntohs(sa.sin_port);
    return r;
  }

 private:
  int fd_;
};

inline std::vector<uint8_t> Rrq(const std::string& name,
                                std::vector<std::string> options = {},
                                uint16_t opcode = 1,
                                const std::string& mode = "octet") {
  std::vector<uint8_t> b = {0, static_cast<uint8_t>(opcode)};
  std::vector<std::string> parts = {name, mode};
  parts.insert(parts.end(), options.begin(), options.end());
  for (const std::string& s : parts) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  return b;
}

// 20000 bytes of lines, CR LF pairs and lone CRs: its netascii form is
// longer, and block boundaries fall inside CR LF and CR NUL pairs.
inline std::string Text() {
  std::string s;
  for (int i = 0; s.size() < 20000; ++i) {
    s += std::string(i % 7, 'a') + (i % 3 == 0   ? "\r\n"
                                    : i % 3 == 1 ? "\n"
                                                 : "\r");
  }
  return s;
}

class ServerTest : public testing::Test {
 protected:
  void Start(int max_sessions = 10, int timeout_ms = 1000,
             uint64_t max_cached_file_bytes = 64ull << 20,
             int max_sessions_per_host = 32) {
    char tmpl[] = "/tmp/pxt-server-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "f1000") << std::string(1000, 'x');
    std::ofstream(dir_ / "f200k") << std::string(200000, 'y');
    std::ofstream(dir_ / "text") << Text();
    Config c;
    c.root = dir_;
    c.symlink_allow = {};
    c.port = 0;  // an ephemeral port: tests run in parallel
    c.max_sessions = max_sessions;
    c.max_sessions_per_host = max_sessions_per_host;
    c.timeout_ms = timeout_ms;
    c.max_retries = 2;
    c.max_cached_file_bytes = max_cached_file_bytes;
    c.virtual_files["menu.ipxe"] = "#!ipxe\n";
    c.stop_grace_ms = stop_grace_ms_;
    auto s = Server::Create(c);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    port_ = server_->port();
    stop_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { server_->Run(stop_); });
  }
  // Stops the loop; counters may be read afterwards.
  void Stop() {
    uint64_t one = 1;
    ASSERT_EQ(write(stop_, &one, sizeof(one)), 8);
    thread_.join();
  }
  void TearDown() override {
    if (thread_.joinable()) Stop();
    if (stop_ >= 0) close(stop_);
    fs::remove_all(dir_);
  }
  uint64_t Dropped(const std::string& why) {
    auto it = server_->counters().dropped.find(why);
    return it == server_->counters().dropped.end() ? 0 : it->second;
  }

  // Most tests stop with transfers left hanging on purpose: no grace.
  int stop_grace_ms_ = 0;
  fs::path dir_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  int stop_ = -1;
  std::thread thread_;
};

}  // namespace server_test
}  // namespace tftp

#endif  // PXEPROXY_TESTS_TFTP_SERVER_FIXTURE_H_
