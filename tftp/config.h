// Configuration of the built-in TFTP server, validated by flags.cc.
#ifndef PXEPROXY_TFTP_CONFIG_H_
#define PXEPROXY_TFTP_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "wire/addr.h"

namespace tftp {

struct Config {
  std::string root = "/usr/lib/ipxe";
  // Symlinks inside the root are followed only when their final target is a
  // regular file inside the root or one of these directories.
  std::vector<std::string> symlink_allow = {"/usr/lib/ipxe"};
  uint16_t port = 69;
  int max_blksize = 65464;  // further clamped to the interface MTU minus 32
  int max_windowsize = 64;
  int max_sessions = 10000;
  // Concurrent transfers from one source address (hostile LAN: one host must
  // not take every slot). Clients behind one NAT share it.
  int max_sessions_per_host = 32;
  // Requests are served only when they arrive on one of these interfaces
  // (the receiving interface's index from IP_PKTINFO, looked up again when
  // an interface is re-created) or on loopback. Empty: every interface.
  std::vector<std::string> interfaces;
  bool single_port = false;  // reply from port 69 itself (NAT'd setups)
  int timeout_ms = 1000;     // default retransmission timeout
  int max_retries = 5;
  // Files up to this size are read once into memory and shared; larger ones
  // are read per window by each transfer. Loaded files take at most
  // cache_bytes in all. Not flags: tests lower them.
  uint64_t max_cached_file_bytes = 64ull << 20;
  uint64_t cache_bytes = 512ull << 20;
  // On SIGTERM, transfers in flight get this long to finish (new requests
  // are dropped meanwhile); then the loop ends. Not a flag: tests lower it.
  int stop_grace_ms = 5000;
  // Called on the TFTP thread for each well-formed read request, with its
  // source address (the proxyDHCP side's adaptive UEFI strategy: the client
  // reached TFTP). Must be thread-safe and quick. Empty: nothing.
  std::function<void(wire::Ipv4)> on_request;
  // Files served from memory by name (the embedded default menu).
  std::map<std::string, std::string> virtual_files;
};

}  // namespace tftp

#endif  // PXEPROXY_TFTP_CONFIG_H_
