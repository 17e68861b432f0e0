#include "capture/pcap_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace capture {

namespace {

// Boot traffic, untagged or behind one 802.1Q tag (a mirror or trunk port).
constexpr char kBootTraffic[] =
    "udp port 67 or udp port 68 or udp port 4011 or udp port 69"
    " or (udp and ip[6:2] & 0x3fff != 0)"
    " or (udp and udp[8:2] >= 1 and udp[8:2] <= 6)"
    " or (tcp and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420"
    " or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x48454144))";

}  // namespace

std::string LiveFilter() {
  return absl::StrCat(kBootTraffic, " or (vlan and (", kBootTraffic, "))");
}

absl::Status CheckFilter(const std::string& filter) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  bpf_program prog;
  int rc = pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  absl::Status s = rc == 0 ? absl::OkStatus()
                           : absl::InvalidArgumentError(pcap_geterr(dead));
  if (rc == 0) pcap_freecode(&prog);
  pcap_close(dead);
  return s;
}

namespace {

constexpr int kSnapLen = 65535;

absl::Status PcapError(const std::string& name, const char* what,
                       const char* err) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", what, ": ", err));
}

}  // namespace

PcapSource::~PcapSource() {
  if (dumper_ != nullptr) pcap_dump_close(dumper_);
  pcap_close(handle_);
}

absl::Status PcapSource::SetLink() {
  int dlt = pcap_datalink(handle_);
  switch (dlt) {
    case DLT_EN10MB:
      link_ = LinkType::kEthernet;
      return absl::OkStatus();
    case DLT_LINUX_SLL:
      link_ = LinkType::kLinuxSll;
      return absl::OkStatus();
    case DLT_RAW:
    case DLT_IPV4:
      link_ = LinkType::kRawIpv4;
      return absl::OkStatus();
  }
  const char* dlt_name = pcap_datalink_val_to_name(dlt);
  return absl::InvalidArgumentError(absl::StrCat(
      name_, ": link type ", dlt, " (", dlt_name ? dlt_name : "unknown",
      ") is not supported: want Ethernet, Linux cooked (\"any\") or raw "
      "IPv4"));
}

absl::StatusOr<std::unique_ptr<PcapSource>> PcapSource::OpenFile(
    const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* h = pcap_open_offline_with_tstamp_precision(
      path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
  if (h == nullptr) return PcapError(path, "not a readable pcap file", err);
  std::unique_ptr<PcapSource> s(new PcapSource(h, path));
  absl::Status st = s->SetLink();
  if (!st.ok()) return st;
  return s;
}

absl::StatusOr<std::unique_ptr<PcapSource>> PcapSource::OpenLive(
    const std::string& iface, const std::string& write_file) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* h = pcap_create(iface.c_str(), err);
  if (h == nullptr) return PcapError(iface, "cannot capture", err);
  std::unique_ptr<PcapSource> s(new PcapSource(h, iface));
  pcap_set_snaplen(h, kSnapLen);
  pcap_set_promisc(h, 1);
  pcap_set_immediate_mode(h, 1);
  int rc = pcap_activate(h);
  if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
    return absl::NotFoundError(absl::StrCat(
        iface, ": no such interface, and no capture file by that name"));
  }
  if (rc == PCAP_ERROR_PERM_DENIED) {
    return PcapError(iface, "cannot capture (run as root or with CAP_NET_RAW)",
                     pcap_geterr(h));
  }
  if (rc < 0) return PcapError(iface, "cannot capture", pcap_geterr(h));
  absl::Status st = s->SetLink();
  if (!st.ok()) return st;
  bpf_program prog;
  if (pcap_compile(h, &prog, LiveFilter().c_str(), 1, PCAP_NETMASK_UNKNOWN) !=
      0) {
    return PcapError(iface, "filter", pcap_geterr(h));
  }
  rc = pcap_setfilter(h, &prog);
  pcap_freecode(&prog);
  if (rc != 0) return PcapError(iface, "filter", pcap_geterr(h));
  if (pcap_setnonblock(h, 1, err) != 0) {
    return PcapError(iface, "non-blocking mode", err);
  }
  if (!write_file.empty()) {
    s->dumper_ = pcap_dump_open(h, write_file.c_str());
    if (s->dumper_ == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--diagnose_write='", write_file,
                       "': cannot be written: ", pcap_geterr(h)));
    }
  }
  return s;
}

absl::StatusOr<bool> PcapSource::Next(Frame* frame) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 0 || rc == PCAP_ERROR_BREAK) return false;
  if (rc < 0) {
    return absl::DataLossError(
        absl::StrCat(name_, ": frame ", count_ + 1, " cannot be read (after ",
                     count_, " good frames): ", pcap_geterr(handle_)));
  }
  if (dumper_ != nullptr) {
    pcap_dump(reinterpret_cast<u_char*>(dumper_), hdr, data);
  }
  frame->number = ++count_;
  frame->time = absl::FromUnixMicros(
      static_cast<int64_t>(hdr->ts.tv_sec) * 1000000 + hdr->ts.tv_usec);
  frame->bytes.assign(data, data + hdr->caplen);
  frame->wire_length = hdr->len;
  return true;
}

int PcapSource::selectable_fd() const {
  return pcap_get_selectable_fd(handle_);
}

void PcapSource::Flush() {
  if (dumper_ != nullptr) pcap_dump_flush(dumper_);
}

std::vector<proxydhcp::IfAddr> InterfaceIpv4(const std::string& iface) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t* all = nullptr;
  std::vector<proxydhcp::IfAddr> found;
  if (pcap_findalldevs(&all, err) != 0) return found;
  for (pcap_if_t* d = all; d != nullptr; d = d->next) {
    if (iface != d->name) continue;
    for (pcap_addr_t* a = d->addresses; a != nullptr; a = a->next) {
      if (a->addr == nullptr || a->addr->sa_family != AF_INET) continue;
      proxydhcp::IfAddr addr;
      addr.ip = ntohl(reinterpret_cast<sockaddr_in*>(a->addr)->sin_addr.s_addr);
      if (a->netmask != nullptr && a->netmask->sa_family == AF_INET) {
        addr.prefix_len = __builtin_popcount(
            reinterpret_cast<sockaddr_in*>(a->netmask)->sin_addr.s_addr);
      }
      found.push_back(addr);
    }
  }
  pcap_freealldevs(all);
  return found;
}

}  // namespace capture
