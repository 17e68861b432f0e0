// The imperative shell of the diagnose mode: frames from a capture file or a
// live interface through libpcap, optionally saved with pcap_dump.
#ifndef PXEPROXY_CAPTURE_PCAP_SOURCE_H_
#define PXEPROXY_CAPTURE_PCAP_SOURCE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "capture/decode.h"
#include "proxydhcp/netstate.h"
#include "wire/addr.h"

struct pcap;
struct pcap_dumper;

namespace capture {

// The live capture filter: DHCP, PXE 4011, TFTP (requests and, on any port,
// packets whose first two bytes are a TFTP opcode), IPv4 fragments of UDP,
// and TCP segments starting an HTTP GET or HEAD; tagged or not.
std::string LiveFilter();
// Compiles a filter for Ethernet frames without a capture handle.
absl::Status CheckFilter(const std::string& filter);

class PcapSource {
 public:
  // A pcap or pcapng file; no privileges needed.
  static absl::StatusOr<std::unique_ptr<PcapSource>> OpenFile(
      const std::string& path);
  // A live interface (needs CAP_NET_RAW); with `write_file`, every frame
  // read is also saved there.
  static absl::StatusOr<std::unique_ptr<PcapSource>> OpenLive(
      const std::string& iface, const std::string& write_file);
  ~PcapSource();

  LinkType link() const { return link_; }
  // The next frame: true; the end of a file, or nothing pending on a live
  // source: false. Errors name the file or interface and the frame number.
  absl::StatusOr<bool> Next(Frame* frame);
  // For poll(2) on a live source.
  int selectable_fd() const;
  void Flush();

 private:
  PcapSource(pcap* handle, std::string name)
      : handle_(handle), name_(std::move(name)) {}
  absl::Status SetLink();

  pcap* handle_;
  pcap_dumper* dumper_ = nullptr;
  std::string name_;
  LinkType link_ = LinkType::kEthernet;
  int count_ = 0;
};

// The interface's IPv4 addresses and prefix lengths, as libpcap lists them
// (the kernel's order: primaries first). The dry run answers from the one
// the daemon would (proxydhcp::Decide).
std::vector<proxydhcp::IfAddr> InterfaceIpv4(const std::string& iface);

}  // namespace capture

#endif  // PXEPROXY_CAPTURE_PCAP_SOURCE_H_
