// boot_storm's machines and their event loop (the generator); the frames they
// send and read are boot_storm_frames'.
#ifndef PXEPROXY_TESTS_TOOLS_BOOT_STORM_H_
#define PXEPROXY_TESTS_TOOLS_BOOT_STORM_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxydhcp/packet_io.h"
#include "tests/tools/boot_storm_frames.h"
#include "wire/addr.h"
#include "wire/dhcp_message.h"

namespace boot_storm {

using Clock = std::chrono::steady_clock;
using wire::DhcpMessage;

enum Stage { kOffer, kAck4011, kTftp, kMenu, kDone, kFailed, kStages };
const char* const kStageNames[] = {"discover", "4011", "tftp",
                                   "ipxe",     "done", "failed"};
constexpr int kMaxDhcpTries = 5;  // the first and PXEBC_DHCP_RETRIES more
constexpr int kMaxTftpTries = 6;  // PXEBC_MTFTP_RETRIES
constexpr auto kTftpTimeout = std::chrono::seconds(4);  // PXEBC_MTFTP_TIMEOUT

struct Machine {
  wire::MacAddr mac{};
  uint32_t ip = 0;
  uint32_t xid = 0;
  Stage stage = kOffer;
  int tries = 0;
  int fd = -1;            // 4011 socket, then the TFTP socket
  uint16_t tid_port = 0;  // the server's transfer port
  bool probing = false;   // the tsize probe (UEFI)
  uint32_t next_block = 1;
  uint64_t received = 0;
  // What the server's OACK granted (RFC 2348, RFC 7440): without an OACK,
  // or an option missing from it, 512-byte blocks acknowledged one by one.
  uint16_t blksize = 512;
  uint16_t window = 1;
  std::optional<uint16_t> menu_item;  // from the proxy OFFER
  std::string boot_file;
  uint32_t tftp_server = 0;
  Clock::time_point start, deadline;
  uint64_t timer_gen = 0;
};

struct Timer {
  Clock::time_point when;
  uint32_t machine;
  uint64_t gen;
  bool operator>(const Timer& o) const { return when > o.when; }
};

struct Options {
  std::string iface;
  uint32_t server = 0, first_ip = 0;
  int n = 0, spread_ms = 0, timeout_s = 120;
  std::string pcap, boot_path, menu_url;
  bool bios = false;
  bool discover_only = false;  // proxyDHCP alone: done at the proxy OFFER
};

class Storm {
 public:
  Storm(const Options& o, std::vector<uint8_t> file) : o_(o), file_(file) {}
  int Run();

 private:
  bool LoadTemplates();
  bool Setup();  // the packet socket, epoll, the machines
  void Start(uint32_t i);
  void SendDiscover(uint32_t i, bool ipxe);
  void Send4011(uint32_t i);
  void SendRrq(uint32_t i, bool new_port = true);
  void SendTftp(uint32_t i, const std::vector<uint8_t>& pkt);
  void Ack(uint32_t i, uint16_t block);
  void OnPacketSocket();
  void OnOffer(uint32_t i, const DhcpMessage& m);
  void OnMachineFd(uint32_t i);
  void OnTftp(uint32_t i, const uint8_t* p, size_t n, uint16_t from_port);
  void Arm(uint32_t i, std::chrono::milliseconds after);
  void OnTimer(uint32_t i);
  void Advance(uint32_t i, Stage s);
  void Fail(uint32_t i, const char* why);
  int OpenUdp(uint32_t ip, uint16_t port);
  void Report();

  Options o_;
  std::vector<uint8_t> file_;
  boot_storm::Templates templates_;
  std::unique_ptr<proxydhcp::PacketSocket> packet_;
  int epoll_ = -1;
  std::vector<Machine> m_;
  std::unordered_map<uint32_t, uint32_t> by_xid_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t retries_[kStages] = {}, failures_[kStages] = {};
  std::map<std::string, uint64_t> why_;
  std::vector<double> to_menu_ms_;
  int finished_ = 0;
  uint64_t dhcp_replies_ = 0;
  uint64_t rrq_retries_ = 0;  // of retries_tftp: an RRQ with no answer  //
                              // every reply from port 67, retries' included
  uint32_t xid_seq_ = 0x7a000000;
  Clock::time_point t0_;
};

}  // namespace boot_storm

#endif  // PXEPROXY_TESTS_TOOLS_BOOT_STORM_H_
